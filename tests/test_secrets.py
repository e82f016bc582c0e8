"""Secrets stay out of logs and MQTT, the token file stays private, and TLS checks stay on.

The session tests run a whole two-factor login, token refreshes, commands and
Blink faults with debug logging, then search every log line and every MQTT
message for the password, the PINs and each token the session ever held.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import ssl
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import yaml

from blink2mqtt.blink.client import BlinkClient, BlinkClientConfig
from blink2mqtt.blink.tokens import TokenStore
from blink2mqtt.bridge.bridge import Bridge, client_config_from
from blink2mqtt.broker import PrivateBroker
from blink2mqtt.config import Config, validate_config
from blink2mqtt.logs import REDACTOR, configure_logging
from blink2mqtt.simulator import DEMO_PASSWORD, DEMO_PIN, LocalBlinkCloud

from conftest import BridgeThread, MqttRecorder, bridge_config

BASE = "blink2mqtt"
PIN_TOPIC = f"{BASE}/bridge/request/pin"
WRONG_PIN = "654321"
HOME = f"{BASE}/network/2101"
FRONT_YARD = f"{BASE}/camera/4101"
TOKEN_FILE_MODE = 0o600
# Tokens live 4 s and are refreshed when less than 3 s remain, so the bridge
# refreshes about once a second while it polls every 0.5 s.
TOKEN_LIFETIME = 4.0
REFRESH_MARGIN = 3.0
StartBridge = Callable[..., BridgeThread]


@pytest.fixture
def cloud() -> Iterator[LocalBlinkCloud]:
    """The local Blink cloud of conftest.py, with short-lived tokens."""
    with LocalBlinkCloud(port=0, command_polls_to_complete=2, command_max_seconds=2.0,
                         stuck_command_seconds=3.0,
                         token_lifetime_seconds=TOKEN_LIFETIME) as running:
        yield running


def wait_until(condition: Callable[[], bool], description: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {description}")
        time.sleep(0.02)


def wait_ready(recorder: MqttRecorder, after: int = 0) -> None:
    recorder.wait_topic(f"{BASE}/camera/6101", after=after)
    recorder.wait_topic(f"{BASE}/bridge/auth", after=after, where=lambda p: p["state"] == "ok")


# Collecting the secrets -------------------------------------------------------------

@dataclass
class Secrets:
    """Every secret a session held, gathered from the token file and the local cloud."""

    password: str
    pins: tuple[str, ...]
    tokens: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_tokens(self, *tokens: str | None) -> None:
        with self._lock:
            self.tokens.update(token for token in tokens if token)

    def by_kind(self) -> dict[str, list[str]]:
        with self._lock:
            tokens = sorted(self.tokens)
        return {"password": [self.password], "PIN": list(self.pins), "token": tokens}


def record_issued_tokens(cloud: LocalBlinkCloud, secrets: Secrets,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Add every token pair the local cloud issues to the secrets."""
    # LocalBlinkCloud lists no issued tokens, so the test wraps its private token store.
    auth = cloud._context.auth
    issue_tokens = auth.issue_tokens

    def recording_issue_tokens(*args: Any, **kwargs: Any) -> Any:
        pair = issue_tokens(*args, **kwargs)
        secrets.add_tokens(pair.access_token, pair.refresh_token)
        return pair

    monkeypatch.setattr(auth, "issue_tokens", recording_issue_tokens)


def read_token_file(path: Path) -> tuple[int, dict[str, Any]]:
    """Return the mode and the content of one version of the token file."""
    descriptor = os.open(path, os.O_RDONLY)
    with os.fdopen(descriptor, "rb") as handle:
        mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        return mode, json.loads(handle.read())


class TokenFileWatcher:
    """A thread that reads the token file each time it is replaced, for its mode and tokens.

    The version present on entry is not the bridge's doing and is skipped.
    """

    def __init__(self, path: Path, secrets: Secrets) -> None:
        self.path = path
        self.secrets = secrets
        self.modes: list[int] = []
        self._initial_version = self._version()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="token-file-watcher",
                                        daemon=True)

    def __enter__(self) -> TokenFileWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._stopping.set()
        self._thread.join(5)

    def _version(self) -> tuple[int, int] | None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        return info.st_ino, info.st_mtime_ns

    def _watch(self) -> None:
        last_version = self._initial_version
        while not self._stopping.wait(0.005):
            version = self._version()
            if version is None or version == last_version:
                continue
            try:
                mode, content = read_token_file(self.path)
            except (FileNotFoundError, ValueError):
                continue  # replaced between stat and read; the next round reads the new one
            last_version = version
            self.modes.append(mode)
            self.secrets.add_tokens(content.get("access_token"), content.get("refresh_token"))


def check_every_save(secrets: Secrets, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make every save read the token file back: its mode goes to the returned list."""
    modes: list[int] = []
    save = TokenStore.save

    def checked_save(store: TokenStore, state: Any) -> None:
        save(store, state)
        mode, content = read_token_file(store.path)
        modes.append(mode)
        secrets.add_tokens(content.get("access_token"), content.get("refresh_token"))

    monkeypatch.setattr(TokenStore, "save", checked_save)
    return modes


# Where secrets must not appear --------------------------------------------------------

class LineCapture(logging.Handler):
    """A log handler that keeps every formatted line except the simulator's own."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("blink2mqtt.simulator"):
            return
        self.lines.append(self.format(record))


@pytest.fixture
def debug_log() -> Iterator[LineCapture]:
    """Set up logging as `blink2mqtt --log-level debug` does, plus a handler keeping lines."""
    root = logging.getLogger()
    watched = [logging.getLogger(name) for name in ("httpx", "httpcore")]
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_levels = [logger.level for logger in watched]

    configure_logging("debug")
    capture = LineCapture()
    capture.setFormatter(root.handlers[0].formatter)
    capture.addFilter(REDACTOR)
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for logger, level in zip(watched, saved_levels):
            logger.setLevel(level)


def leaked_lines(lines: list[str], secrets: list[str]) -> list[str]:
    return [line for line in lines if any(secret in line for secret in secrets)]


def leaked_messages(recorder: MqttRecorder, secrets: list[str]) -> list[str]:
    """Return the topics of messages that carry a secret, except the test's own PIN requests."""
    encoded = [secret.encode("utf-8") for secret in secrets]
    return [message.topic for message in recorder.messages
            if message.topic != PIN_TOPIC
            and any(secret in message.payload or secret in message.topic.encode("utf-8")
                    for secret in encoded)]


def check_no_leaks(secrets: Secrets, lines: list[str], recorder: MqttRecorder) -> None:
    for kind, values in secrets.by_kind().items():
        assert leaked_lines(lines, values) == [], f"a {kind} is in the log"
        assert leaked_messages(recorder, values) == [], f"a {kind} is in an MQTT message"


# The session --------------------------------------------------------------------------

def final_response(recorder: MqttRecorder, topic: str, after: int) -> dict[str, Any]:
    return recorder.wait_topic(f"{topic}/response", after=after,
                               where=lambda p: p["status"] in ("ok", "error")).json()


def send_pins(recorder: MqttRecorder) -> None:
    """Answer the two-factor request over MQTT: a wrong PIN first, then the right one."""
    recorder.wait_topic(f"{BASE}/bridge/auth", where=lambda p: p["state"] == "pin_required")
    mark = recorder.mark()
    recorder.publish(PIN_TOPIC, {"pin": WRONG_PIN, "transaction": "wrong"})
    wrong = recorder.wait_topic(f"{BASE}/bridge/response/pin", after=mark).json()
    assert wrong["status"] == "error"

    mark = recorder.mark()
    recorder.publish(PIN_TOPIC, DEMO_PIN)
    right = recorder.wait_topic(f"{BASE}/bridge/response/pin", after=mark).json()
    assert right["status"] == "ok", right
    wait_ready(recorder, after=mark)


def wait_for_good_poll(cloud: LocalBlinkCloud, since: float) -> None:
    def polled() -> bool:
        return any(request.path.endswith("/homescreen") and request.status == 200
                   and request.time > since for request in cloud.requests)
    wait_until(polled, "a successful homescreen read")


def run_commands(recorder: MqttRecorder) -> None:
    for topic, action, payload in ((HOME, "set", "ARM_AWAY"), (FRONT_YARD, "snapshot", ""),
                                   (FRONT_YARD, "snooze", "30")):
        mark = recorder.mark()
        recorder.publish(f"{topic}/{action}", payload)
        response = final_response(recorder, topic, mark)
        assert response["status"] == "ok", response


def inject_faults(cloud: LocalBlinkCloud) -> None:
    """Inject a 429 with Retry-After, two 503s and a 401, and wait for a good poll after each."""
    faults = [({"kind": "rate_limit", "retry_after": 1}, 429),
              ({"kind": "status", "status": 503, "count": 2}, 503),
              ({"kind": "status", "status": 401}, 401)]
    for fault, status in faults:
        since = time.time()
        cloud.inject_fault(r"/homescreen$", **fault)
        wait_until(lambda: cloud.count_requests(path_regex=r"/homescreen$") > 0
                   and not cloud.state_snapshot()["faults"], f"the HTTP {status} fault")
        wait_for_good_poll(cloud, since)


def run_session(recorder: MqttRecorder, cloud: LocalBlinkCloud) -> None:
    send_pins(recorder)
    refreshes = cloud.refreshes
    wait_until(lambda: cloud.refreshes >= refreshes + 2, "two refreshes before expiry")

    refreshes = cloud.refreshes
    cloud.expire_tokens()
    wait_until(lambda: cloud.refreshes > refreshes, "a refresh after a 401")

    run_commands(recorder)
    inject_faults(cloud)


def check_session_ran(cloud: LocalBlinkCloud, secrets: Secrets, lines: list[str]) -> None:
    """Check that the session held tokens and logged, so that a pass is not vacuous."""
    assert cloud.sms_sent == 1
    assert cloud.refreshes >= 4
    assert len(secrets.tokens) >= 2 * 5  # the login and at least four refreshes
    assert any(" DEBUG " in line for line in lines)
    for status in (429, 503, 401):
        assert any(request.status == status for request in cloud.requests), status


# The session in-process and as `blink2mqtt run` ---------------------------------------

class CliBridgeThread(BridgeThread):
    """A BridgeThread that hands the session's tokens to the log redactor, as `run` does."""

    def _main(self) -> None:
        async def run() -> None:
            self.loop = asyncio.get_running_loop()
            self.bridge = Bridge(self.config)
            self.bridge.client.session.add_secret_listener(REDACTOR.add)
            self._ready.set()
            await self.bridge.run()

        try:
            asyncio.run(run())
        except BaseException as err:  # noqa: BLE001 - reported by stop()
            self.error = err
            self._ready.set()


def session_config(cloud: LocalBlinkCloud, broker: PrivateBroker, tmp_path: Path) -> Config:
    return bridge_config(cloud, broker, tmp_path, blink={"refresh_margin": REFRESH_MARGIN})


def test_session_in_process(cloud: LocalBlinkCloud, broker: PrivateBroker,
                            recorder: MqttRecorder, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch, debug_log: LineCapture) -> None:
    cloud.set_two_factor(True, "412")
    secrets = Secrets(DEMO_PASSWORD, (DEMO_PIN, WRONG_PIN))
    record_issued_tokens(cloud, secrets, monkeypatch)
    saved_modes = check_every_save(secrets, monkeypatch)
    config = session_config(cloud, broker, tmp_path)
    token_file = Path(config.blink["token_file"])
    # A token file left readable by others, holding only the hardware id.
    token_file.write_text(json.dumps({"hardware_id": "0C1D2E3F-LEGACY"}), encoding="utf-8")
    token_file.chmod(0o644)
    REDACTOR.add(config.blink["password"])

    with TokenFileWatcher(token_file, secrets) as watcher:
        runner = CliBridgeThread(config).start()
        try:
            run_session(recorder, cloud)
        finally:
            runner.stop()

    check_session_ran(cloud, secrets, debug_log.lines)
    check_no_leaks(secrets, debug_log.lines, recorder)
    assert len(saved_modes) >= 5
    assert [mode for mode in saved_modes if mode != TOKEN_FILE_MODE] == []
    assert [mode for mode in watcher.modes if mode != TOKEN_FILE_MODE] == []


def write_cli_config(config: Config, path: Path) -> None:
    sections = {
        "blink": config.blink,
        "mqtt": {key: value for key, value in config.mqtt.items() if value is not None},
        "homeassistant": config.homeassistant, "bridge": config.bridge, "media": config.media,
    }
    path.write_text(yaml.safe_dump(sections), encoding="utf-8")


def cli_environment() -> dict[str, str]:
    """Return the environment without blink2mqtt variables and with no proxy for loopback."""
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("BLINK2MQTT_")}
    environment["NO_PROXY"] = environment["no_proxy"] = "127.0.0.1,localhost"
    return environment


def test_session_through_cli(cloud: LocalBlinkCloud, broker: PrivateBroker,
                             recorder: MqttRecorder, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    cloud.set_two_factor(True, "412")
    secrets = Secrets(DEMO_PASSWORD, (DEMO_PIN, WRONG_PIN))
    record_issued_tokens(cloud, secrets, monkeypatch)
    config = session_config(cloud, broker, tmp_path)
    config_file = tmp_path / "config.yaml"
    write_cli_config(config, config_file)
    log_file = tmp_path / "stderr.log"

    with TokenFileWatcher(Path(config.blink["token_file"]), secrets) as watcher, \
            log_file.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "blink2mqtt", "--log-level", "debug", "run",
             "-c", str(config_file)],
            stdout=subprocess.DEVNULL, stderr=stderr, env=cli_environment())
        try:
            run_session(recorder, cloud)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert process.returncode == 0, lines[-20:]
    check_session_ran(cloud, secrets, lines)
    check_no_leaks(secrets, lines, recorder)
    assert len(watcher.modes) >= 3
    assert [mode for mode in watcher.modes if mode != TOKEN_FILE_MODE] == []


# TLS ------------------------------------------------------------------------------------

def tls_config(tmp_path: Path, **sections: dict[str, Any]) -> Config:
    raw: dict[str, Any] = {"blink": {"token_file": str(tmp_path / "tokens.json")},
                           "media": {"seen_file": str(tmp_path / "media.json")}}
    for section, values in sections.items():
        raw.setdefault(section, {}).update(values)
    return validate_config(raw)


@pytest.fixture
def make_bridge() -> Iterator[Callable[[Config], Bridge]]:
    """Build bridges that are never started, to inspect their clients."""
    built: list[Bridge] = []

    def make(config: Config) -> Bridge:
        bridge = Bridge(config)
        built.append(bridge)
        return bridge

    yield make
    for bridge in built:
        asyncio.run(bridge.client.aclose())


def httpx_context(client: BlinkClient) -> ssl.SSLContext:
    return client._http._transport._pool._ssl_context


def tls_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records
            if record.levelno == logging.WARNING and "verification is OFF" in record.getMessage()]


def test_blink_tls_verified_by_default(tmp_path: Path, make_bridge: Callable[[Config], Bridge],
                                       caplog: pytest.LogCaptureFixture) -> None:
    assert BlinkClientConfig(token_file=tmp_path / "tokens.json").verify_tls is True
    config = tls_config(tmp_path)
    assert client_config_from(config).verify_tls is True
    context = httpx_context(make_bridge(config).client)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert tls_warnings(caplog) == []


def test_blink_tls_off_warns(tmp_path: Path, make_bridge: Callable[[Config], Bridge],
                             caplog: pytest.LogCaptureFixture) -> None:
    bridge = make_bridge(tls_config(tmp_path, blink={"verify_tls": False}))
    assert httpx_context(bridge.client).verify_mode == ssl.CERT_NONE
    assert len(tls_warnings(caplog)) == 1
    assert "blink.verify_tls" in tls_warnings(caplog)[0]


def test_mqtt_tls_requires_certificate(tmp_path: Path, make_bridge: Callable[[Config], Bridge],
                                       caplog: pytest.LogCaptureFixture) -> None:
    bridge = make_bridge(tls_config(tmp_path, mqtt={"tls": {"enabled": True}}))
    context = bridge.mqtt._client._ssl_context
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert tls_warnings(caplog) == []


def test_mqtt_tls_insecure_warns(tmp_path: Path, make_bridge: Callable[[Config], Bridge],
                                 caplog: pytest.LogCaptureFixture) -> None:
    bridge = make_bridge(tls_config(tmp_path, mqtt={"tls": {"enabled": True, "insecure": True}}))
    assert bridge.mqtt._client._ssl_context.verify_mode == ssl.CERT_NONE
    assert len(tls_warnings(caplog)) == 1
    assert "mqtt.tls.insecure" in tls_warnings(caplog)[0]


# Devices outside the account ----------------------------------------------------------

UNKNOWN_DEVICE_COMMANDS = [
    (f"{BASE}/network/9999/set", "ARM_AWAY"),
    (f"{BASE}/network/9999/snooze", "30"),
    (f"{BASE}/camera/9999/set", "OFF"),
    (f"{BASE}/camera/9999/snapshot", ""),
    (f"{BASE}/camera/9999/record", ""),
    (f"{BASE}/camera/9999/get", ""),
    (f"{BASE}/network/4101/set", "DISARM"),  # a camera's id under network
    (f"{BASE}/camera/2101/set", "ON"),  # a network's id under camera
]


def test_unknown_devices_rejected(start_bridge: StartBridge, recorder: MqttRecorder,
                                 cloud: LocalBlinkCloud) -> None:
    start_bridge()
    wait_ready(recorder)
    tier_host = f"rest-{cloud.tier}"
    posts = cloud.count_requests(method="POST", host=tier_host)

    for topic, payload in UNKNOWN_DEVICE_COMMANDS:
        mark = recorder.mark()
        recorder.publish(topic, {"transaction": topic} if payload == "" else payload)
        response_topic = topic.rsplit("/", 1)[0]
        response = final_response(recorder, response_topic, mark)
        assert response["reason"] == "unknown_device", (topic, response)

    assert cloud.count_requests(path_regex=r"/9999(/|$)") == 0
    assert cloud.count_requests(method="POST", host=tier_host) == posts
