"""Bad input end to end: fuzzed commands and bridge requests against a running bridge,
and broken config files through the command line.

Every fuzzed command expects exactly one ``error`` response. A sentinel message
follows each example and is answered on the same topic; MQTT keeps the order of
messages on one topic, so the responses before the sentinel's belong to the example.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from blink2mqtt.bridge.commands import MAX_COMMAND_PAYLOAD_BYTES
from blink2mqtt.broker import PrivateBroker
from blink2mqtt.simulator import LocalBlinkCloud

from conftest import BridgeThread, Message, MqttRecorder, bridge_config

BASE = "blink2mqtt"
ACCOUNT_IDS = {"network": (2101, 2102), "camera": (4101, 4102, 4103, 5101, 5102, 6101)}
ACTIONS = ("set", "get", "snapshot", "record", "snooze")
BRIDGE_REQUESTS = ("pin", "refresh", "discovery", "health", "login")
COMMAND_RESPONSE = f"{BASE}/bridge/response/command"
DOCUMENTED_REASONS = frozenset({
    "invalid_payload", "unknown_device", "unsupported", "retained", "timeout", "busy",
    "rate_limited", "login_required", "blocked", "client_outdated", "unavailable",
    "not_found", "blink_error", "unchanged", "offline",
})
# The bridge routes ids of more than 18 digits to bridge/response/command, like ids
# that are not numbers, because they exceed every Blink id.
MAX_ID_DIGITS = 18
MAX_TRANSACTION_CHARS = 256
MAX_SNOOZE_MINUTES = 1440
ONE_MEBIBYTE = 1024 * 1024
RESPONSE_TIMEOUT = 2.0
# Words a set topic accepts: the README's ARM_AWAY, DISARM, ON and OFF plus the
# synonyms the parser takes, compared without case.
SET_WORDS = {
    "network": frozenset({"arm_away", "arm", "armed", "armed_away", "on", "true",
                          "disarm", "disarmed", "off", "false"}),
    "camera": frozenset({"on", "true", "1", "enable", "enabled", "yes",
                         "off", "false", "0", "disable", "disabled", "no"}),
}
FIELD_OF_SET = {"network": "armed", "camera": "motion_detection"}
# Blink REST paths that change a device: arm, disarm, motion detection, snapshot,
# clip, snooze and camera settings.
DEVICE_CHANGING_PATHS = (r"/state/(arm|disarm)$"
                         r"|/(enable|disable|thumbnail|clip|snooze|update|config)$")
WILDCARD_TEXTS = ("+", "#", "a/+/b", f"{BASE}/#", "$SYS/#", "/", "+/+", "ARM_AWAY#", "#ON",
                  f"{BASE}/network/2101/set")


def fuzz_settings(max_examples: int) -> settings:
    # NOTE: an example took about 80 ms on a 2-CPU machine, mostly two delayed TCP
    # acknowledgements on the bridge's MQTT socket. The counts keep this file near a minute.
    return settings(max_examples=max_examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example,
                                           HealthCheck.filter_too_much])


# The contract the README states, used to skip valid examples ---------------------

@dataclass(frozen=True)
class Command:
    kind: str
    device_id: str
    action: str
    payload: bytes

    @property
    def topic(self) -> str:
        return f"{BASE}/{self.kind}/{self.device_id}/{self.action}"

    @property
    def response_topic(self) -> str:
        if is_plain_id(self.device_id):
            return f"{BASE}/{self.kind}/{self.device_id}/response"
        return COMMAND_RESPONSE

    def __repr__(self) -> str:
        preview = self.payload if len(self.payload) <= 120 else self.payload[:120] + b"..."
        return f"Command({self.topic!r}, {len(self.payload)} bytes: {preview!r})"


def is_plain_id(raw: str) -> bool:
    """Blink ids are ASCII digits without a leading zero; others go to bridge/response/command."""
    return raw.isascii() and raw.isdigit() and not raw.startswith("0") and len(raw) <= MAX_ID_DIGITS


def accepted_transaction(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return len(value) <= MAX_TRANSACTION_CHARS
    return isinstance(value, (int, float))


def accepted_value(kind: str, action: str, value: Any) -> bool:
    """Return True when a bare word or a field value is valid for the action."""
    if action in ("get", "snapshot", "record"):
        return isinstance(value, str)
    if action == "set":
        if isinstance(value, bool):
            return True
        return isinstance(value, str) and value.lower() in SET_WORDS[kind]
    if isinstance(value, int) and not isinstance(value, bool):
        minutes = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        minutes = int(value.strip())
    else:
        return False
    return 1 <= minutes <= MAX_SNOOZE_MINUTES


def accepted_payload(kind: str, action: str, payload: bytes) -> bool:
    if len(payload) > MAX_COMMAND_PAYLOAD_BYTES:
        return False
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        return False
    if text.startswith("["):
        return False
    if not text.startswith(("{", '"')):
        return accepted_value(kind, action, text)
    try:
        value = json.loads(text, parse_constant=_reject_json_constant)
    except (ValueError, RecursionError):
        return False
    if isinstance(value, str):
        return accepted_value(kind, action, value)
    fields = dict(value)
    if not accepted_transaction(fields.pop("transaction", None)):
        return False
    if action in ("get", "snapshot", "record"):
        return not fields
    key = FIELD_OF_SET[kind] if action == "set" else "minutes"
    return set(fields) == {key} and accepted_value(kind, action, fields[key])


def _reject_json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def rejection_reasons(command: Command) -> frozenset[str]:
    """Return every reason that applies to the command, or none when the README accepts it.

    A command with several faults may be answered with any one of their reasons.
    """
    reasons = set()
    if not is_plain_id(command.device_id) \
            or int(command.device_id) not in ACCOUNT_IDS[command.kind]:
        reasons.add("unknown_device")
    if command.kind == "network" and command.action in ("snapshot", "record"):
        reasons.add("unsupported")
    if not accepted_payload(command.kind, command.action, command.payload):
        reasons.add("invalid_payload")
    return frozenset(reasons)


def object_transaction(payload: bytes, *, max_chars: int | None = MAX_TRANSACTION_CHARS,
                       max_bytes: int | None = MAX_COMMAND_PAYLOAD_BYTES) -> Any:
    """Return the transaction the response must echo, or None when it need not echo one."""
    if max_bytes is not None and len(payload) > max_bytes:
        return None
    try:
        text = payload.decode("utf-8").strip()
        value = json.loads(text, parse_constant=_reject_json_constant) \
            if text.startswith("{") else None
        # A payload that cannot be sent back as UTF-8 JSON has no transaction to echo.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    transaction = value.get("transaction")
    if isinstance(transaction, bool) or not isinstance(transaction, (str, int, float)):
        return None
    if isinstance(transaction, str) and max_chars is not None and len(transaction) > max_chars:
        return None
    return transaction


# Strategies -----------------------------------------------------------------------

# mosquitto disconnects clients that put control characters or noncharacters
# in a topic, so generated topic levels leave them out.
topic_levels = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Cn"), blacklist_characters="/+#"),
    max_size=24)
odd_texts = st.text(max_size=40) | st.sampled_from(WILDCARD_TEXTS)
json_leaves = (st.none() | st.booleans() | st.integers(-10**30, 10**30)
               | st.floats(allow_nan=False, allow_infinity=False) | odd_texts
               | st.sampled_from(sorted(SET_WORDS["network"] | SET_WORDS["camera"])))
json_values = st.recursive(
    json_leaves,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12)
valid_transactions = (st.text(max_size=MAX_TRANSACTION_CHARS) | st.sampled_from(WILDCARD_TEXTS)
                      | st.integers(-2**63, 2**63)
                      | st.floats(allow_nan=False, allow_infinity=False))
invalid_transactions = (st.booleans() | st.lists(json_leaves, max_size=3)
                        | st.dictionaries(st.text(max_size=5), json_leaves, max_size=2)
                        | st.text(min_size=MAX_TRANSACTION_CHARS + 1,
                                  max_size=MAX_TRANSACTION_CHARS + 40))


def dump(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")


def repeat_to(size: int, unit: bytes) -> bytes:
    return (unit * (size // len(unit) + 1))[:size]


oversized_sizes = st.integers(MAX_COMMAND_PAYLOAD_BYTES + 1, ONE_MEBIBYTE)
oversized_payloads = st.one_of(
    st.builds(repeat_to, oversized_sizes,
              st.sampled_from([b"A", b" ", b"ARM_AWAY ", b"\xff", "\u00e9".encode(), b"{"])),
    # Valid commands padded beyond the size limit.
    oversized_sizes.map(lambda size: b"ARM_AWAY" + b" " * size),
    oversized_sizes.map(lambda size: dump({"armed": True, "transaction": "padded",
                                           "padding": "x" * size})),
)
invalid_utf8_payloads = st.builds(
    lambda head, bad, tail: head.encode("utf-8") + bad + tail.encode("utf-8"),
    st.text(max_size=20),
    st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xc0\xaf",
                     b"\x80", b"\xfe\xfe"]),
    st.text(max_size=20))
broken_json_payloads = st.sampled_from([
    b"{", b"{]", b'{"armed": tru}', b"{'armed': true}", b'{"armed": true,}', b"[",
    b'"unterminated', b'{"a": 1}{"b": 2}', b'{"armed": true} trailing', b'"a" "b"',
    b'{"minutes": 01}', b'{"transaction": "t1"', b"\xef\xbb\xbf{}",
])
word_payloads = (st.text(max_size=30).map(lambda text: text.encode("utf-8"))
                 | st.sampled_from([b"ARM", b"arm away", b"ON!", b"-5", b"0", b"1441", b"1e3",
                                    b"240.0", b"NaN", b"null", b"  ", b"\x00", b"+", b"#"]))


def object_payloads(kind: str, action: str) -> st.SearchStrategy[bytes]:
    """JSON objects with fields of every type, most with a transaction to echo."""
    if action == "set":
        keys = st.sampled_from([FIELD_OF_SET[kind], FIELD_OF_SET["network"], "state", ""])
    elif action == "snooze":
        keys = st.sampled_from(["minutes", "duration", "Minutes"])
    else:
        keys = st.sampled_from(["minutes", "armed", "force", "transaction_id"])
    fields = st.dictionaries(keys | st.text(max_size=12), json_values, max_size=3)
    transactions = st.one_of(st.just(None), valid_transactions, valid_transactions,
                             invalid_transactions)

    def build(fields: dict[str, Any], transaction: Any) -> bytes:
        if transaction is not None:
            fields = {**fields, "transaction": transaction}
        return dump(fields)

    return st.builds(build, fields, transactions)


def command_payloads(kind: str, action: str) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=200), invalid_utf8_payloads, oversized_payloads,
        json_values.map(dump), object_payloads(kind, action), broken_json_payloads,
        word_payloads)


def account_commands() -> st.SearchStrategy[Command]:
    """Commands to the account's devices, to unknown numbers and to the other kind's ids."""
    def for_topic(kind: str, action: str) -> st.SearchStrategy[Command]:
        other = "camera" if kind == "network" else "network"
        ids = st.one_of(st.sampled_from(ACCOUNT_IDS[kind]), st.sampled_from(ACCOUNT_IDS[other]))
        return st.builds(Command, st.just(kind), ids.map(str), st.just(action),
                         command_payloads(kind, action))

    return st.tuples(st.sampled_from(sorted(ACCOUNT_IDS)), st.sampled_from(ACTIONS)) \
        .flatmap(lambda pair: for_topic(*pair))


valid_looking_payloads = st.sampled_from([
    b"ARM_AWAY", b"DISARM", b"ON", b"OFF", b"240", b"", b"snap", b'{"armed": true}',
    b'{"motion_detection": false, "transaction": "t1"}', b'{"minutes": 30}',
    b'{"transaction": 7}',
])
known_ids = {str(device_id) for ids in ACCOUNT_IDS.values() for device_id in ids}
odd_ids = st.one_of(
    st.sampled_from(["4101x", "-1", "99999999999999999999", "", " 4101", "4101 ", "4101.0",
                     "0x1005", "1e3", "2101/", "\u200b2101", "$4101", "4101\ufeff"]),
    topic_levels.filter(lambda raw: raw not in known_ids),
    st.integers(0, 10**25).map(str).filter(lambda raw: raw not in known_ids),
).filter(lambda raw: "/" not in raw)


def odd_id_commands() -> st.SearchStrategy[Command]:
    def for_topic(kind: str, action: str) -> st.SearchStrategy[Command]:
        payloads = st.one_of(valid_looking_payloads, command_payloads(kind, action))
        return st.builds(Command, st.just(kind), odd_ids, st.just(action), payloads)

    return st.tuples(st.sampled_from(sorted(ACCOUNT_IDS)), st.sampled_from(ACTIONS)) \
        .flatmap(lambda pair: for_topic(*pair))


pin_payloads = st.one_of(
    st.text(max_size=12).filter(lambda text: not text.strip().isdigit()).map(str.encode),
    st.integers(9, 40).map(lambda digits: b"9" * digits),
    st.integers(1, 3).map(lambda digits: b"7" * digits),
    st.just(b""),
    st.binary(max_size=64),
    # Four to eight digits fail too, because no login is waiting for a PIN.
    st.from_regex(r"\A[0-9]{4,8}\Z").map(str.encode),
    st.builds(lambda pin, transaction: dump({"pin": pin, "transaction": transaction}),
              json_values, valid_transactions),
    oversized_payloads,
)


# Running the bridge ---------------------------------------------------------------

class Exchange:
    """Publishes one message and a sentinel, and returns the responses in between."""

    def __init__(self, recorder: MqttRecorder) -> None:
        self.recorder = recorder
        self.sent = 0

    def send(self, topic: str, payload: bytes, *, response_topic: str,
             sentinel_topic: str, sentinel_payload: dict[str, Any]) -> list[Message]:
        self.sent += 1
        sentinel = f"sentinel-{self.sent}"
        mark = self.recorder.mark()
        self.recorder.publish(topic, payload)
        self.recorder.publish(sentinel_topic, {**sentinel_payload, "transaction": sentinel})
        self.recorder.wait_topic(response_topic, after=mark, timeout=RESPONSE_TIMEOUT,
                                 where=lambda answer: answer.get("transaction") == sentinel)
        answers = []
        for message in self.recorder.messages[mark:]:
            if message.topic != response_topic:
                continue
            if strict_json(message.payload).get("transaction") == sentinel:
                break
            answers.append(message)
        return answers

    def send_command(self, command: Command) -> list[Message]:
        # An extra field makes the sentinel invalid on every id, so it is answered at once.
        return self.send(command.topic, command.payload, response_topic=command.response_topic,
                         sentinel_topic=f"{BASE}/{command.kind}/{command.device_id}/get",
                         sentinel_payload={"sentinel": True})

    def send_request(self, name: str, payload: bytes) -> list[Message]:
        return self.send(f"{BASE}/bridge/request/{name}", payload,
                         response_topic=f"{BASE}/bridge/response/{name}",
                         sentinel_topic=f"{BASE}/bridge/request/{name}",
                         sentinel_payload={"pin": "sentinel"})


def strict_json(payload: bytes) -> Any:
    """Parse JSON as RFC 8259 defines it, so NaN and Infinity are errors."""
    def reject(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")
    return json.loads(payload, parse_constant=reject)


def check_command_rejected(answers: list[Message], command: Command) -> None:
    reasons = rejection_reasons(command)
    assert len(answers) == 1, f"{len(answers)} responses to {command!r}"
    answer = strict_json(answers[0].payload)
    assert answer["status"] == "error", (command, answer)
    assert answer["reason"] in reasons, (command, answer, sorted(reasons))
    assert answer["reason"] in DOCUMENTED_REASONS, answer
    assert isinstance(answer["message"], str) and answer["message"].strip(), answer
    assert not answers[0].retain, answer
    transaction = object_transaction(command.payload)
    if transaction is not None:
        assert answer.get("transaction") == transaction, (command, answer)


def check_request_rejected(answers: list[Message], name: str, payload: bytes) -> None:
    assert len(answers) == 1, f"{len(answers)} responses to {name} {payload[:80]!r}"
    answer = strict_json(answers[0].payload)
    assert answer["status"] == "error", answer
    assert isinstance(answer["error"], str) and answer["error"].strip(), answer
    transaction = object_transaction(payload, max_chars=None, max_bytes=None)
    if transaction is not None:
        assert answer.get("transaction") == transaction, (payload[:80], answer)


def wait_ready(recorder: MqttRecorder) -> None:
    recorder.wait_topic(f"{BASE}/camera/6101")
    recorder.wait_topic(f"{BASE}/bridge/auth", where=lambda p: p["state"] == "ok")


def wait_settled(recorder: MqttRecorder, *, quiet: float = 0.6, timeout: float = 10.0) -> None:
    """Wait until the first images are out and a poll passes with nothing new but bridge/info."""
    recorder.wait_topic(f"{BASE}/camera/6101/image")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mark = recorder.mark()
        time.sleep(quiet)
        if all(message.topic == f"{BASE}/bridge/info" for message in recorder.messages[mark:]):
            return
    raise AssertionError(f"the bridge still publishes new state after {timeout:g} s")


def device_state(cloud: LocalBlinkCloud) -> dict[int, tuple[Any, ...]]:
    snapshot = cloud.state_snapshot()
    state: dict[int, tuple[Any, ...]] = {}
    for network in snapshot["networks"]:
        state[network["id"]] = (network["armed"], network["snooze_until"])
    for device in snapshot["devices"]:
        state[device["id"]] = (device["motion_enabled"], device["snooze_until"],
                               device["thumbnail_ts"])
    return state


def is_sent_by_test(topic: str) -> bool:
    parts = topic.split("/")
    if parts[:3] == [BASE, "bridge", "request"]:
        return True
    return len(parts) == 4 and parts[0] == BASE and parts[1] in ACCOUNT_IDS \
        and parts[3] in ACTIONS


def is_response(topic: str) -> bool:
    return topic.endswith("/response") or topic.startswith(f"{BASE}/bridge/response/")


class Baseline:
    """Retained state and the cloud's devices before the bad input, to compare after it."""

    def __init__(self, recorder: MqttRecorder, cloud: LocalBlinkCloud) -> None:
        self.recorder = recorder
        self.cloud = cloud
        self.mark = recorder.mark()
        self.published = {message.topic: message.payload
                          for message in recorder.messages[:self.mark]}
        self.devices = device_state(cloud)
        self.requests = self.device_requests()
        self.sms_sent = cloud.sms_sent
        self.signins = cloud.signins

    def device_requests(self) -> tuple[int, int]:
        """Count arm and disarm requests, and POST requests to any path that changes a device."""
        return (self.cloud.count_requests(path_regex=r"/state/(arm|disarm)$"),
                self.cloud.count_requests(method="POST", path_regex=DEVICE_CHANGING_PATHS))

    def changed_topics(self) -> list[str]:
        """Return the topics the bridge published after the mark with a new payload."""
        changed = []
        for message in self.recorder.messages[self.mark:]:
            if is_sent_by_test(message.topic) or is_response(message.topic):
                continue
            if message.topic == f"{BASE}/bridge/info":
                continue  # last_poll changes with every poll
            if self.published.get(message.topic) != message.payload:
                changed.append(message.topic)
        return changed


def check_nothing_changed(baseline: Baseline) -> None:
    cloud = baseline.cloud
    assert baseline.device_requests() == baseline.requests
    assert device_state(cloud) == baseline.devices
    assert baseline.changed_topics() == []
    assert cloud.signins == baseline.signins
    assert cloud.sms_sent == baseline.sms_sent


def check_bridge_alive(recorder: MqttRecorder) -> None:
    mark = recorder.mark()
    recorder.publish(f"{BASE}/camera/4101/get", {"transaction": "alive"})
    answer = recorder.wait_topic(
        f"{BASE}/camera/4101/response", after=mark,
        where=lambda p: p.get("transaction") == "alive" and p["status"] in ("ok", "error"))
    assert answer.json()["status"] == "ok"
    assert recorder.latest(f"{BASE}/bridge/state").payload == b"online"
    assert recorder.latest(f"{BASE}/bridge/auth").json()["state"] == "ok"


def uncaught_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the ERROR log lines, where asyncio reports exceptions that escaped a callback."""
    return [record.getMessage() for record in caplog.records
            if record.levelno >= logging.ERROR]


def disable_nagle(recorder: MqttRecorder) -> None:
    """Send the recorder's packets at once.

    Neither paho nor mosquitto sets TCP_NODELAY, so without it every publish
    waits about 40 ms for a delayed TCP acknowledgement.
    """
    recorder._client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


@pytest.fixture
def ready(start_bridge: Callable[..., BridgeThread], recorder: MqttRecorder) -> MqttRecorder:
    disable_nagle(recorder)
    start_bridge()
    wait_ready(recorder)
    wait_settled(recorder)
    return recorder


# Fuzzed commands ------------------------------------------------------------------

def test_account_commands_fuzzed(ready: MqttRecorder, cloud: LocalBlinkCloud,
                                 caplog: pytest.LogCaptureFixture) -> None:
    baseline = Baseline(ready, cloud)
    exchange = Exchange(ready)

    @fuzz_settings(80)
    @given(command=account_commands())
    @example(command=Command("network", "2101", "set", b'{"armed": "+", "transaction": "#"}'))
    @example(command=Command("camera", "4101", "snooze", b"0"))
    @example(command=Command("network", "2102", "snapshot", b""))
    @example(command=Command("camera", "4101", "set", b"\xff\xfe"))
    @example(command=Command("camera", "4101", "get", b"A" * ONE_MEBIBYTE))
    def check(command: Command) -> None:
        assume(rejection_reasons(command))
        check_command_rejected(exchange.send_command(command), command)

    check()
    check_nothing_changed(baseline)
    assert uncaught_errors(caplog) == []
    check_bridge_alive(ready)


def test_odd_id_commands_fuzzed(ready: MqttRecorder, cloud: LocalBlinkCloud,
                                caplog: pytest.LogCaptureFixture) -> None:
    baseline = Baseline(ready, cloud)
    exchange = Exchange(ready)

    @fuzz_settings(60)
    @given(command=odd_id_commands())
    @example(command=Command("camera", "4101x", "snapshot", b""))
    @example(command=Command("network", "-1", "set", b"ARM_AWAY"))
    @example(command=Command("network", "99999999999999999999", "set", b"DISARM"))
    @example(command=Command("camera", "9999", "set", b'{"motion_detection": false, '
                                                      b'"transaction": "t-9999"}'))
    def check(command: Command) -> None:
        check_command_rejected(exchange.send_command(command), command)

    check()
    check_nothing_changed(baseline)
    assert uncaught_errors(caplog) == []
    check_bridge_alive(ready)


# Bridge requests ------------------------------------------------------------------

def test_pin_requests_fuzzed(ready: MqttRecorder, cloud: LocalBlinkCloud,
                             caplog: pytest.LogCaptureFixture) -> None:
    baseline = Baseline(ready, cloud)
    exchange = Exchange(ready)

    @fuzz_settings(50)
    @given(payload=pin_payloads)
    @example(payload=b"12ab56")
    @example(payload=b"1234567890123")
    @example(payload=b"")
    @example(payload=b"\x00\xff\x01\x02")
    @example(payload=b'{"pin": ["1234"], "transaction": "p1"}')
    @example(payload=b'{"pin": "+#", "transaction": 5}')
    def check(payload: bytes) -> None:
        check_request_rejected(exchange.send_request("pin", payload), "pin", payload)

    check()
    check_nothing_changed(baseline)
    assert uncaught_errors(caplog) == []
    check_bridge_alive(ready)


def test_unknown_requests_fuzzed(ready: MqttRecorder, cloud: LocalBlinkCloud,
                                 caplog: pytest.LogCaptureFixture) -> None:
    baseline = Baseline(ready, cloud)
    exchange = Exchange(ready)

    @fuzz_settings(40)
    @given(name=topic_levels.filter(lambda name: name not in BRIDGE_REQUESTS),
           payload=st.one_of(st.binary(max_size=64), json_values.map(dump),
                             object_payloads("network", "get")))
    @example(name="", payload=b"")
    @example(name="reboot", payload=b'{"transaction": "r1"}')
    @example(name="PIN", payload=b"123456")
    @example(name="pin ", payload=b"123456")
    def check(name: str, payload: bytes) -> None:
        answers = exchange.send_request(name, payload)
        check_request_rejected(answers, name, payload)
        assert "known requests" in strict_json(answers[0].payload)["error"]

    check()
    check_nothing_changed(baseline)
    assert uncaught_errors(caplog) == []
    check_bridge_alive(ready)


# Inputs that crash or mislead the bridge ---------------------------------------------

@dataclass(frozen=True)
class SharedBridge:
    recorder: MqttRecorder
    cloud: LocalBlinkCloud
    exchange: Exchange


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedBridge]:
    """One bridge for the single-message cases below.

    Only the tests at the end of the module may change a device, and only while
    the bug they pin down is open.
    """
    tmp_path = tmp_path_factory.mktemp("shared-bridge")
    with PrivateBroker() as broker, LocalBlinkCloud(port=0) as cloud:
        recorder = MqttRecorder(broker)
        disable_nagle(recorder)
        runner = BridgeThread(bridge_config(cloud, broker, tmp_path)).start()
        try:
            wait_ready(recorder)
            wait_settled(recorder)
            yield SharedBridge(recorder, cloud, Exchange(recorder))
        finally:
            runner.stop()
            recorder.close()


CRASH_INPUTS = [
    pytest.param(Command("camera", "\u00b2", "get", b""), id="superscript-id"),
    pytest.param(Command("network", "2101", "set", b'{"armed": 1' + b"0" * 5000 + b"}"),
                 id="integer-of-5001-digits"),
    pytest.param(Command("network", "2101", "set", b"[" * 5000 + b"]" * 5000),
                 id="arrays-nested-5000-deep"),
    pytest.param(Command("camera", "4101", "get", b'{"a": ' * 2000 + b"1" + b"}" * 2000),
                 id="objects-nested-2000-deep"),
    pytest.param(Command("camera", "4101", "snooze", "\u00b2".encode()), id="superscript-minutes"),
    pytest.param(Command("camera", "4101", "snooze", b'{"minutes": "\xc2\xb2"}'),
                 id="superscript-minutes-field"),
    pytest.param(Command("network", "2101", "set", b'{"armed": "x", "transaction": "\\ud800"}'),
                 id="surrogate-transaction"),
    pytest.param(Command("camera", "4101", "get", b'{"\\udc00": 1}'), id="surrogate-field-name"),
    pytest.param(Command("network", "2101", "set", b'{"armed": "x", "transaction": NaN}'),
                 id="nan-transaction"),
    pytest.param(Command("network", "2101", "set", b'{"armed": "x", "transaction": -Infinity}'),
                 id="infinite-transaction"),
]


@pytest.mark.parametrize("command", CRASH_INPUTS)
def test_crash_inputs_answered(shared: SharedBridge, command: Command) -> None:
    check_command_rejected(shared.exchange.send_command(command), command)


CRASH_REQUESTS = [
    pytest.param(b'{"pin": 1' + b"0" * 5000 + b"}", id="integer-of-5001-digits"),
    pytest.param(b'{"pin": ' + b"[" * 5000 + b"]" * 5000 + b"}", id="arrays-nested-5000-deep"),
    pytest.param(b'{"pin": "12", "transaction": "\\ud800"}', id="surrogate-transaction"),
]


@pytest.mark.parametrize("payload", CRASH_REQUESTS)
def test_crash_requests_answered(shared: SharedBridge, payload: bytes) -> None:
    check_request_rejected(shared.exchange.send_request("pin", payload), "pin", payload)


@pytest.mark.parametrize("name", ["reboot", "", "PIN", "\u00e9t\u00e9"])
def test_unknown_request_answered(shared: SharedBridge, name: str) -> None:
    answers = shared.exchange.send_request(name, b'{"transaction": "u1"}')
    check_request_rejected(answers, name, b'{"transaction": "u1"}')


@pytest.mark.parametrize("payload", [b"12ab56", b"123456789", b"123", b"", b"\x00\xff\xfe\x01"])
def test_bad_pin_answered(shared: SharedBridge, payload: bytes) -> None:
    check_request_rejected(shared.exchange.send_request("pin", payload), "pin", payload)


def test_non_ascii_digit_ids_rejected(shared: SharedBridge) -> None:
    baseline = Baseline(shared.recorder, shared.cloud)
    arabic_indic_2101 = "\u0662\u0661\u0660\u0661"
    command = Command("network", arabic_indic_2101, "set", b"ARM_AWAY")
    check_command_rejected(shared.exchange.send_command(command), command)
    check_nothing_changed(baseline)


def test_leading_zero_id_rejected(shared: SharedBridge) -> None:
    baseline = Baseline(shared.recorder, shared.cloud)
    command = Command("camera", "04101", "set", b"OFF")
    check_command_rejected(shared.exchange.send_command(command), command)
    check_nothing_changed(baseline)


# Config files through the command line ----------------------------------------------

class ConnectionTrap:
    """A TCP listener on 127.0.0.1 that counts connections and closes each at once."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self.port = self._socket.getsockname()[1]
        self.connections = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="connection-trap", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            self._accept_one()

    def _accept_one(self) -> bool:
        try:
            connection, _address = self._socket.accept()
        except (TimeoutError, BlockingIOError):
            return False
        self.connections += 1
        connection.close()
        return True

    def close(self) -> int:
        """Stop listening and return the connection count, including any still queued."""
        self._stopping.set()
        self._thread.join(5)
        self._socket.setblocking(False)
        while self._accept_one():
            pass
        self._socket.close()
        return self.connections


def trap_hosts(trap: ConnectionTrap) -> dict[str, str]:
    # 127.1 reaches 127.0.0.1, but the config does not count it as loopback, so the
    # bridge treats these as Blink's real hosts.
    url = f"http://127.1:{trap.port}"
    return {"oauth_url": f"{url}/oauth", "rest_prod_url": f"{url}/rest-prod",
            "tier_url_template": f"{url}/rest-{{tier}}"}


def trapped_config(blink_trap: ConnectionTrap, broker_trap: ConnectionTrap,
                   folder: Path) -> dict[str, Any]:
    """Return a config whose every network address is one of the traps."""
    return {
        "blink": {"email": "someone@example.invalid", "password": "not-a-real-password",
                  "token_file": str(folder / "tokens.json"), "hosts": trap_hosts(blink_trap)},
        "mqtt": {"host": "127.0.0.1", "port": broker_trap.port},
        "media": {"seen_file": str(folder / "media.json")},
    }


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for section, values in changes.items():
        if isinstance(values, dict) and isinstance(result.get(section), dict):
            result[section] = {**result[section], **values}
        else:
            result[section] = values
    return result


def cli_environment(blink_trap: ConnectionTrap) -> dict[str, str]:
    """Return the test's environment without blink2mqtt secrets and with every proxy at the trap.

    A run that wrongly started would send its Blink requests to the trap, even to the
    default hosts, instead of to the internet.
    """
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("BLINK2MQTT_") and key.lower() != "no_proxy"}
    proxy = f"http://127.0.0.1:{blink_trap.port}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        environment[name] = proxy
    return environment


@dataclass(frozen=True)
class CliResult:
    exit_code: int | None
    stdout: str
    stderr: str


CLI_TIMEOUT = 20.0


def run_cli(arguments: list[str], environment: dict[str, str]) -> CliResult:
    process = subprocess.Popen([sys.executable, "-m", "blink2mqtt", *arguments],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=environment)
    try:
        stdout, stderr = process.communicate(timeout=CLI_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        return CliResult(None, stdout, f"did not exit within {CLI_TIMEOUT:g} s\n{stderr}")
    return CliResult(process.returncode, stdout, stderr)


@dataclass(frozen=True)
class ConfigCase:
    """A config file: raw text, or changes merged into a config that points at the traps."""

    content: str | bytes | dict[str, Any]
    commands: tuple[str, ...] = ("check-config", "run")


@dataclass(frozen=True)
class ConfigOutcome:
    results: dict[str, CliResult]
    blink_connections: int
    broker_connections: int
    path: Path


def try_config(case: ConfigCase, folder: Path) -> ConfigOutcome:
    """Run the case's commands on its file at the same time, each case with its own traps."""
    blink_trap, broker_trap = ConnectionTrap(), ConnectionTrap()
    try:
        content = case.content
        if isinstance(content, dict):
            content = yaml.safe_dump(merged(trapped_config(blink_trap, broker_trap, folder),
                                            content))
        path = folder / "config.yaml"
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        environment = cli_environment(blink_trap)
        with ThreadPoolExecutor(len(case.commands)) as pool:
            futures = {command: pool.submit(run_cli, [command, "-c", str(path)], environment)
                       for command in case.commands}
            results = {command: future.result() for command, future in futures.items()}
    finally:
        blink_connections, broker_connections = blink_trap.close(), broker_trap.close()
    return ConfigOutcome(results, blink_connections, broker_connections, path)


CONFIG_CASES: dict[str, tuple[ConfigCase, str]] = {
    # Files that are not a YAML mapping.
    "broken-yaml": (ConfigCase("mqtt:\n  host: [127.0.0.1\n"), "not valid YAML at line"),
    "tab-indent": (ConfigCase("mqtt:\n\thost: x\n"), "not valid YAML"),
    "list-at-top-level": (ConfigCase("- blink\n- mqtt\n"), "must be a YAML mapping"),
    "string-at-top-level": (ConfigCase("just some text\n"), "must be a YAML mapping"),
    "non-utf8": (ConfigCase(b"mqtt:\n  host: \xff\xfe\n"), "config.yaml"),
    # Wrong types and values.
    "port-not-a-number": (ConfigCase({"mqtt": {"port": "abc"}}), "mqtt.port"),
    "poll-interval-text": (ConfigCase({"bridge": {"poll_interval": "often"}}),
                           "bridge.poll_interval"),
    "verify-tls-number": (ConfigCase({"blink": {"verify_tls": 3}}), "blink.verify_tls"),
    "tls-enabled-text": (ConfigCase({"mqtt": {"tls": {"enabled": "yes"}}}), "mqtt.tls.enabled"),
    "discovery-text": (ConfigCase({"homeassistant": {"discovery": "maybe"}}),
                       "homeassistant.discovery"),
    "base-topic-wildcard": (ConfigCase({"mqtt": {"base_topic": "a/+/b"}}), "mqtt.base_topic"),
    "password-list": (ConfigCase({"blink": {"password": ["not-a-real-password"]}}),
                      "blink.password"),
    # Sections that are not mappings, and unknown keys.
    "section-number": (ConfigCase({"mqtt": 5}), "mqtt"),
    "section-empty": (ConfigCase({"mqtt": None}), "mqtt"),
    "unknown-section": (ConfigCase({"mqt": {"host": "x"}}), "mqt in"),
    "unknown-key": (ConfigCase({"mqtt": {"prot": 1}}), "mqtt.prot in"),
    # Polling Blink's real hosts faster than once a minute.
    "fast-polling-of-real-hosts": (ConfigCase({"bridge": {"poll_interval": 10}}),
                                   "bridge.poll_interval"),
    "fast-polling-of-default-hosts": (
        ConfigCase({"bridge": {"poll_interval": 59.9}, "blink": {"hosts": {}}}),
        "bridge.poll_interval"),
    # CA files that do not exist.
    "blink-ca-bundle-missing": (ConfigCase({"blink": {"verify_tls": "/nonexistent/blink-ca.pem"}}),
                                "blink.verify_tls"),
    "broker-ca-file-missing": (
        ConfigCase({"mqtt": {"tls": {"enabled": True, "ca_file": "/nonexistent/broker-ca.pem"}}}),
        "mqtt.tls.ca_file"),
    # Valid files; run is left out because it would connect with the defaults.
    "empty": (ConfigCase("", commands=("check-config",)), ""),
    "comment-only": (ConfigCase("# only a comment\n", commands=("check-config",)), ""),
    "sections-missing": (ConfigCase("blink:\n  email: someone@example.invalid\n",
                                    commands=("check-config",)), ""),
}
VALID_CONFIGS = ("empty", "comment-only", "sections-missing")
@pytest.fixture(scope="module")
def config_outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ConfigOutcome]:
    """Run every config case, one per CPU at a time, since starting Python is CPU-bound."""
    folders = {name: tmp_path_factory.mktemp(name) for name in CONFIG_CASES}
    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        futures = {name: pool.submit(try_config, case, folders[name])
                   for name, (case, _fragment) in CONFIG_CASES.items()}
        return {name: future.result() for name, future in futures.items()}


def invalid_config_cases() -> list[Any]:
    cases = []
    for name in CONFIG_CASES:
        if name in VALID_CONFIGS:
            continue
        cases.append(pytest.param(name, id=name))
    return cases


@pytest.mark.parametrize("name", invalid_config_cases())
def test_invalid_config_rejected(config_outcomes: dict[str, ConfigOutcome], name: str) -> None:
    outcome = config_outcomes[name]
    fragment = CONFIG_CASES[name][1]
    for command, result in outcome.results.items():
        assert result.exit_code == 2, (command, result.stderr)
        assert fragment in result.stderr, (command, result.stderr)
        assert result.stderr.count("blink2mqtt:") == 1, (command, result.stderr)
        assert "Traceback" not in result.stderr, (command, result.stderr)
        assert "valid" not in result.stdout, (command, result.stdout)
        assert "not-a-real-password" not in result.stderr, command
    assert outcome.blink_connections == 0
    assert outcome.broker_connections == 0


@pytest.mark.parametrize("name", VALID_CONFIGS)
def test_valid_config_accepted(config_outcomes: dict[str, ConfigOutcome], name: str) -> None:
    outcome = config_outcomes[name]
    result = outcome.results["check-config"]
    assert result.exit_code == 0, result.stderr
    assert f"{outcome.path}: valid" in result.stdout
    assert "Poll interval: 60 s" in result.stdout
    assert outcome.blink_connections == 0


def test_trap_counts_connections() -> None:
    # The zero counts above mean something only if a connection to 127.1 reaches the trap.
    trap = ConnectionTrap()
    with socket.create_connection(("127.1", trap.port), timeout=5):
        pass
    assert trap.close() == 1
