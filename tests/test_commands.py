"""Command message parsing: what the bridge accepts and how it rejects the rest."""

from __future__ import annotations

import pytest

from blink2mqtt.bridge.commands import (
    CommandName,
    InvalidCommand,
    Reason,
    extract_transaction,
    parse_command,
)
from blink2mqtt.bridge.topics import Action, DeviceKind, DeviceTopic, Topics


def network(action: Action, device_id: str = "2101") -> DeviceTopic:
    return DeviceTopic(DeviceKind.NETWORK, device_id, action)


def camera(action: Action, device_id: str = "4101") -> DeviceTopic:
    return DeviceTopic(DeviceKind.CAMERA, device_id, action)


@pytest.mark.parametrize(("payload", "expected"), [
    (b"ARM_AWAY", CommandName.ARM), (b"arm", CommandName.ARM), (b"DISARM", CommandName.DISARM),
    (b'{"armed": true}', CommandName.ARM), (b'{"armed": false}', CommandName.DISARM),
    (b'"ARM_AWAY"', CommandName.ARM), (b"  disarm\n", CommandName.DISARM),
])
def test_network_set_values(payload: bytes, expected: CommandName) -> None:
    assert parse_command(network(Action.SET), payload).name is expected


@pytest.mark.parametrize(("payload", "expected"), [
    (b"ON", CommandName.ENABLE_MOTION), (b"off", CommandName.DISABLE_MOTION),
    (b'{"motion_detection": true}', CommandName.ENABLE_MOTION),
    (b'{"motion_detection": "OFF"}', CommandName.DISABLE_MOTION),
])
def test_camera_set_values(payload: bytes, expected: CommandName) -> None:
    assert parse_command(camera(Action.SET), payload).name is expected


def test_transaction_is_kept() -> None:
    request = parse_command(network(Action.SET), b'{"armed": true, "transaction": "t-1"}')
    assert request.transaction == "t-1"
    assert request.device_id == 2101


@pytest.mark.parametrize(("topic", "payload", "reason"), [
    (network(Action.SET), b"MAYBE", Reason.INVALID_PAYLOAD),
    (network(Action.SET), b'{"armed": "sometimes"}', Reason.INVALID_PAYLOAD),
    (network(Action.SET), b'{"armd": true}', Reason.INVALID_PAYLOAD),
    (network(Action.SET), b"[1, 2]", Reason.INVALID_PAYLOAD),
    (network(Action.SET), b"{broken", Reason.INVALID_PAYLOAD),
    (network(Action.SET), b"\xff\xfe", Reason.INVALID_PAYLOAD),
    (network(Action.SET), b"x" * 20000, Reason.INVALID_PAYLOAD),
    (camera(Action.SET), b"12", Reason.INVALID_PAYLOAD),
    (camera(Action.SNOOZE), b"0", Reason.INVALID_PAYLOAD),
    (camera(Action.SNOOZE), b"abc", Reason.INVALID_PAYLOAD),
    (camera(Action.SNOOZE), b"100000", Reason.INVALID_PAYLOAD),
    (camera(Action.SNAPSHOT), b'{"when": "now"}', Reason.INVALID_PAYLOAD),
    (network(Action.SNAPSHOT), b"", Reason.UNSUPPORTED),
    (network(Action.RECORD), b"", Reason.UNSUPPORTED),
    (camera(Action.SET, device_id="abc"), b"ON", Reason.UNKNOWN_DEVICE),
])
def test_rejections(topic: DeviceTopic, payload: bytes, reason: Reason) -> None:
    with pytest.raises(InvalidCommand) as rejected:
        parse_command(topic, payload)
    assert rejected.value.reason is reason
    assert rejected.value.message


def test_rejection_says_what_is_accepted() -> None:
    with pytest.raises(InvalidCommand) as rejected:
        parse_command(network(Action.SET), b"MAYBE")
    assert "ARM_AWAY" in rejected.value.message
    assert "'MAYBE'" in rejected.value.message


def test_rejection_keeps_transaction() -> None:
    with pytest.raises(InvalidCommand) as rejected:
        parse_command(network(Action.SET), b'{"armed": 3, "transaction": 42}')
    assert rejected.value.transaction == 42
    assert extract_transaction(b'{"transaction": "x"}') == "x"
    assert extract_transaction(b"\xff") is None


@pytest.mark.parametrize(("payload", "minutes"), [(b"240", 240), (b'{"minutes": 30}', 30),
                                                  (b'{"minutes": "60"}', 60)])
def test_snooze_minutes(payload: bytes, minutes: int) -> None:
    assert parse_command(camera(Action.SNOOZE), payload).minutes == minutes


def test_topic_parsing() -> None:
    topics = Topics(base="blink2mqtt")
    parsed = topics.parse_command_topic("blink2mqtt/camera/4101/snapshot")
    assert parsed == DeviceTopic(DeviceKind.CAMERA, "4101", Action.SNAPSHOT)
    assert topics.parse_command_topic("blink2mqtt/camera/4101") is None
    assert topics.parse_command_topic("blink2mqtt/camera/4101/image") is None
    assert topics.parse_command_topic("other/camera/4101/set") is None
    assert topics.parse_bridge_request("blink2mqtt/bridge/request/pin") == "pin"
    assert topics.parse_bridge_request("blink2mqtt/bridge/request/a/b") is None
