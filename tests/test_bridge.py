"""The bridge end to end: a real mosquitto, the local Blink cloud and the bridge."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

import paho.mqtt.client as paho
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from blink2mqtt.broker import PrivateBroker
from blink2mqtt.simulator import DEMO_PIN, LocalBlinkCloud

from conftest import BridgeThread, MqttRecorder
from ha_schemas import validate

BASE = "blink2mqtt"
HOME = f"{BASE}/network/2101"
CABIN = f"{BASE}/network/2102"
FRONT_YARD = f"{BASE}/camera/4101"
StartBridge = Callable[..., BridgeThread]


def wait_ready(recorder: MqttRecorder) -> None:
    recorder.wait_topic(f"{BASE}/camera/6101")
    recorder.wait_topic(f"{BASE}/bridge/auth", where=lambda p: p["state"] == "ok")


def final_response(recorder: MqttRecorder, topic: str, after: int = 0,
                   timeout: float = 10.0) -> dict[str, Any]:
    message = recorder.wait_topic(f"{topic}/response", after=after, timeout=timeout,
                                  where=lambda p: p["status"] in ("ok", "error"))
    return message.json()


def statuses(recorder: MqttRecorder, topic: str, after: int = 0) -> list[str]:
    return [m.json()["status"] for m in recorder.messages[after:] if m.topic == f"{topic}/response"]


# Discovery and state ----------------------------------------------------------

def test_discovery_for_every_entity_kind(start_bridge: StartBridge, recorder: MqttRecorder,
                                         broker: PrivateBroker) -> None:
    start_bridge()
    wait_ready(recorder)
    recorder.wait_topic(f"homeassistant/camera/{BASE}/camera_6101_image/config", timeout=5)
    time.sleep(0.3)
    # A late subscriber, as Home Assistant after a restart, gets every config retained.
    late = MqttRecorder(broker, subscribe=("homeassistant/#",))
    late.wait_topic(f"homeassistant/camera/{BASE}/camera_6101_image/config")
    time.sleep(0.3)
    late.close()
    configs = {m.topic: m for m in late.messages}
    components = {topic.split("/")[1] for topic in configs}
    assert components >= {"alarm_control_panel", "switch", "binary_sensor", "sensor", "camera",
                          "button", "text", "event"}
    for topic, message in configs.items():
        assert message.retain, topic
        problems = validate(topic.split("/")[1], message.json())
        assert problems == [], (topic, problems)
    unique_ids = [m.json()["unique_id"] for m in configs.values()]
    assert len(unique_ids) == len(set(unique_ids))


def test_states_published_with_nulls(start_bridge: StartBridge, recorder: MqttRecorder) -> None:
    start_bridge()
    wait_ready(recorder)
    home = recorder.wait_topic(HOME).json()
    assert home["state"] == "disarmed"
    assert home["sync_module"]["status"] == "online"
    driveway = recorder.wait_topic(f"{BASE}/camera/4102").json()
    assert driveway["temperature"] < 0  # 31 °F
    assert driveway["temperature_f"] == 31
    doorbell = recorder.wait_topic(f"{BASE}/camera/6101").json()
    assert doorbell["battery"] is None
    assert doorbell["temperature"] is None
    assert doorbell["model"] == "Blink Video Doorbell"
    for topic in (HOME, FRONT_YARD):
        assert recorder.wait_topic(f"{topic}/availability").payload == b"online"
    assert recorder.wait_topic(f"{BASE}/bridge/state").payload == b"online"
    info = recorder.wait_topic(f"{BASE}/bridge/info", where=lambda p: p["cameras"] == 6).json()
    assert info["account_id"] == 74521
    assert info["networks"] == 2
    assert info["last_poll"] is not None
    devices = recorder.wait_topic(f"{BASE}/bridge/devices", where=lambda p: len(p) == 8).json()
    assert {d["id"] for d in devices} == {2101, 2102, 4101, 4102, 4103, 5101, 5102, 6101}


def test_state_changes_published_only_when_changed(start_bridge: StartBridge, recorder: MqttRecorder,
                                                   cloud: LocalBlinkCloud) -> None:
    start_bridge()
    wait_ready(recorder)
    time.sleep(1.2)  # a few quiet polls
    assert len(recorder.on_topic(FRONT_YARD)) == 1
    assert len(recorder.on_topic(HOME)) == 1
    mark = recorder.mark()
    cloud.update_camera(4101, battery="low", temperature_f=14, name="Front Gate")
    changed = recorder.wait_topic(FRONT_YARD, after=mark,
                                  where=lambda p: p["name"] == "Front Gate").json()
    assert changed["battery"] == "low"
    assert changed["battery_low"] is True
    assert changed["temperature"] == -10.0
    assert len(recorder.on_topic(HOME)) == 1


# Commands ---------------------------------------------------------------------

def test_arm_lifecycle_with_transaction(start_bridge: StartBridge, recorder: MqttRecorder,
                                        cloud: LocalBlinkCloud) -> None:
    start_bridge()
    wait_ready(recorder)
    mark = recorder.mark()
    recorder.publish(f"{HOME}/set", {"armed": True, "transaction": "tx-42"})
    response = final_response(recorder, HOME, mark)
    assert response["status"] == "ok"
    assert response["transaction"] == "tx-42"
    assert response["command"] == "arm"
    assert response["duration_ms"] > 0
    assert statuses(recorder, HOME, mark) == ["accepted", "pending", "ok"]
    pending = next(m.json() for m in recorder.messages[mark:]
                   if m.topic == f"{HOME}/response" and m.json()["status"] == "pending")
    assert isinstance(pending["blink_command_id"], int)
    states = [m.json()["state"] for m in recorder.messages[mark:] if m.topic == HOME]
    assert "arming" in states
    # The state is read back before "ok", so it is already armed.
    ok_index = next(i for i, m in enumerate(recorder.messages) if i >= mark
                    and m.topic == f"{HOME}/response" and m.json()["status"] == "ok")
    last_state = [m.json()["state"] for m in recorder.messages[mark:ok_index] if m.topic == HOME][-1]
    assert last_state == "armed_away"

    mark = recorder.mark()
    recorder.publish(f"{HOME}/set", "DISARM")
    assert final_response(recorder, HOME, mark)["status"] == "ok"
    assert recorder.latest(HOME).json()["state"] == "disarmed"


@pytest.mark.parametrize(("suffix", "payload", "command", "check"), [
    ("set", "OFF", "disable_motion_detection", lambda p: p["motion_detection"] is False),
    ("snapshot", "", "snapshot", None),
    ("record", "", "record", None),
    ("snooze", "240", "snooze", None),
    ("get", "", "get", None),
])
def test_camera_commands_end_to_end(start_bridge: StartBridge, recorder: MqttRecorder,
                                    suffix: str, payload: str, command: str,
                                    check: Callable[[dict[str, Any]], bool] | None) -> None:
    start_bridge()
    wait_ready(recorder)
    mark = recorder.mark()
    recorder.publish(f"{FRONT_YARD}/{suffix}", payload)
    response = final_response(recorder, FRONT_YARD, mark)
    assert response["status"] == "ok", response
    assert response["command"] == command
    if check is not None:
        assert check(recorder.latest(FRONT_YARD).json())


def test_mini_and_doorbell_motion_toggle(start_bridge: StartBridge, recorder: MqttRecorder) -> None:
    start_bridge()
    wait_ready(recorder)
    for camera_id in (5102, 6101):
        topic = f"{BASE}/camera/{camera_id}"
        mark = recorder.mark()
        recorder.publish(f"{topic}/set", {"motion_detection": False})
        assert final_response(recorder, topic, mark)["status"] == "ok"
        assert recorder.latest(topic).json()["motion_detection"] is False


def test_mqtt5_response_topic_and_correlation(start_bridge: StartBridge, broker: PrivateBroker,
                                              recorder: MqttRecorder) -> None:
    start_bridge(mqtt={"protocol": "5"})
    wait_ready(recorder)
    client = MqttRecorder(broker, protocol=paho.MQTTv5, subscribe=("replies/#",))
    properties = Properties(PacketTypes.PUBLISH)
    properties.ResponseTopic = "replies/node-red"
    properties.CorrelationData = b"corr-7"
    client.publish(f"{HOME}/set", "ARM_AWAY", properties=properties)
    reply = client.wait_topic("replies/node-red", where=lambda p: p["status"] == "ok")
    assert reply.properties.CorrelationData == b"corr-7"
    assert [m.json()["status"] for m in client.on_topic("replies/node-red")] == \
        ["accepted", "pending", "ok"]
    client.close()


def test_commands_on_one_network_queue(start_bridge: StartBridge, recorder: MqttRecorder,
                                       cloud: LocalBlinkCloud) -> None:
    start_bridge()
    wait_ready(recorder)
    mark = recorder.mark()
    recorder.publish(f"{HOME}/set", {"armed": True, "transaction": "first"})
    recorder.publish(f"{FRONT_YARD}/snapshot", {"transaction": "second"})
    recorder.publish(f"{CABIN}/set", {"armed": True, "transaction": "other-network"})
    first = final_response(recorder, HOME, mark)
    second = final_response(recorder, FRONT_YARD, mark)
    other = final_response(recorder, CABIN, mark)
    assert (first["status"], second["status"], other["status"]) == ("ok", "ok", "ok")
    accepted = next(m.json() for m in recorder.messages[mark:]
                    if m.topic == f"{FRONT_YARD}/response" and m.json()["status"] == "accepted")
    assert accepted["queued"] is True
    # The bridge never overlapped commands on one network, so Blink never returned busy.
    assert all(r.status != 307 for r in cloud.requests)


def test_busy_network_retried_then_reported(start_bridge: StartBridge, recorder: MqttRecorder,
                                            cloud: LocalBlinkCloud) -> None:
    start_bridge()
    wait_ready(recorder)
    # Another app keeps the sync module busy for longer than the bridge retries.
    cloud.inject_fault(r"/state/arm$", "status", count=5, status=200,
                       body={"message": "System is busy, please wait", "error": None, "code": 307})
    mark = recorder.mark()
    recorder.publish(f"{HOME}/set", "ARM_AWAY")
    response = final_response(recorder, HOME, mark)
    assert response["status"] == "error"
    assert response["reason"] == "busy"
    assert recorder.latest(HOME).json()["state"] == "disarmed"


def test_command_failure_and_timeout_reported(start_bridge: StartBridge, recorder: MqttRecorder,
                                              cloud: LocalBlinkCloud) -> None:
    start_bridge(blink={"command_timeout": 1.0})
    wait_ready(recorder)
    cloud.fail_next_command("fail", status_code=999, message="Camera did not respond")
    mark = recorder.mark()
    recorder.publish(f"{HOME}/set", "ARM_AWAY")
    failed = final_response(recorder, HOME, mark)
    assert failed["reason"] == "blink_error"
    assert failed["code"] == 999
    assert failed["message"] == "Camera did not respond"
    assert recorder.latest(HOME).json()["state"] == "disarmed"

    cloud.fail_next_command("never_complete")
    mark = recorder.mark()
    recorder.publish(f"{CABIN}/set", "ARM_AWAY")
    timed_out = final_response(recorder, CABIN, mark)
    assert timed_out["reason"] == "timeout"
    assert recorder.latest(CABIN).json()["state"] == "disarmed"


def test_arm_refused_without_enabled_camera(start_bridge: StartBridge, recorder: MqttRecorder,
                                            cloud: LocalBlinkCloud) -> None:
    for camera_id in (5102, 6101):
        cloud.update_camera(camera_id, motion_enabled=False)
    start_bridge()
    wait_ready(recorder)
    mark = recorder.mark()
    recorder.publish(f"{CABIN}/set", "ARM_AWAY")
    response = final_response(recorder, CABIN, mark)
    assert response["reason"] == "blink_error"
    assert response["code"] == 304
    assert "No Cameras Enabled" in response["message"]


@pytest.mark.parametrize(("topic", "payload", "reason"), [
    (f"{BASE}/network/9999/set", "ARM_AWAY", "unknown_device"),
    (f"{HOME}/set", "LOUDLY", "invalid_payload"),
    (f"{HOME}/snapshot", "", "unsupported"),
    (f"{FRONT_YARD}/snooze", "-5", "invalid_payload"),
])
def test_invalid_commands_answered(start_bridge: StartBridge, recorder: MqttRecorder,
                                   topic: str, payload: str, reason: str) -> None:
    start_bridge()
    wait_ready(recorder)
    mark = recorder.mark()
    response_topic = topic.rsplit("/", 1)[0] + "/response"
    recorder.publish(topic, payload)
    response = recorder.wait_topic(response_topic, after=mark).json()
    assert response["status"] == "error"
    assert response["reason"] == reason
    assert response["message"]


def test_retained_command_ignored(start_bridge: StartBridge, recorder: MqttRecorder,
                                  cloud: LocalBlinkCloud) -> None:
    recorder.publish(f"{HOME}/set", "ARM_AWAY", retain=True)
    start_bridge()
    wait_ready(recorder)
    response = recorder.wait_topic(f"{HOME}/response").json()
    assert response["reason"] == "retained"
    time.sleep(1.0)
    assert cloud.count_requests(path_regex=r"/state/arm$") == 0
    assert recorder.latest(HOME).json()["armed"] is False


# Home Assistant and broker restarts ---------------------------------------------

def test_birth_message_republishes(start_bridge: StartBridge, recorder: MqttRecorder) -> None:
    start_bridge()
    wait_ready(recorder)
    mark = recorder.mark()
    recorder.publish("homeassistant/status", "online")
    recorder.wait_topic(f"homeassistant/alarm_control_panel/{BASE}/network_2101_alarm/config",
                        after=mark)
    recorder.wait_topic(HOME, after=mark)
    recorder.wait_topic(f"{BASE}/bridge/state", after=mark)


def test_broker_restart_reconnects_and_republishes(start_bridge: StartBridge,
                                                   broker: PrivateBroker) -> None:
    start_bridge()
    first = MqttRecorder(broker)
    wait_ready(first)
    first.close()

    broker.restart()  # no persistence: every retained message is gone
    watcher = MqttRecorder(broker)
    wait_ready(watcher)
    assert watcher.wait_topic(f"{BASE}/bridge/state").payload == b"online"
    watcher.wait_topic(f"homeassistant/alarm_control_panel/{BASE}/network_2101_alarm/config")
    # Re-subscribed: a command after the restart runs.
    mark = watcher.mark()
    watcher.publish(f"{HOME}/set", {"armed": True, "transaction": "after-restart"})
    assert final_response(watcher, HOME, mark)["status"] == "ok"
    watcher.close()


def test_sigkill_leaves_offline(cloud: LocalBlinkCloud, broker: PrivateBroker, tmp_path: Path,
                                recorder: MqttRecorder) -> None:
    import signal
    import subprocess
    import sys

    import yaml
    from conftest import bridge_config

    config = bridge_config(cloud, broker, tmp_path, mqtt={"keepalive": 5})
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "blink": config.blink, "mqtt": {k: v for k, v in config.mqtt.items() if v is not None},
        "homeassistant": config.homeassistant, "bridge": config.bridge, "media": config.media,
    }), encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "blink2mqtt", "run", "-c", str(path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(recorder)
        mark = recorder.mark()
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        # The broker sends the will after 1.5 keepalives without traffic.
        offline = recorder.wait_topic(f"{BASE}/bridge/state", after=mark, timeout=15)
        assert offline.payload == b"offline"
    finally:
        if process.poll() is None:
            process.kill()


# Devices coming and going, and outages ------------------------------------------

def test_removed_device_cleaned_up(start_bridge: StartBridge, recorder: MqttRecorder,
                                   cloud: LocalBlinkCloud, broker: PrivateBroker) -> None:
    start_bridge()
    wait_ready(recorder)
    config_topic = f"homeassistant/switch/{BASE}/camera_5102_motion_detection/config"
    recorder.wait_topic(config_topic)
    mark = recorder.mark()
    cloud.remove_device(5102)
    cleared = recorder.wait_for(lambda m: m.topic == config_topic and m.payload == b"",
                                after=mark, description="discovery config cleared")
    assert cleared.payload == b""
    recorder.wait_for(lambda m: m.topic == f"{BASE}/camera/5102" and m.payload == b"", after=mark,
                      description="state cleared")
    devices = recorder.wait_topic(f"{BASE}/bridge/devices", after=mark,
                                  where=lambda p: 5102 not in {d["id"] for d in p})
    assert 5101 in {d["id"] for d in devices.json()}
    # Nothing about the removed camera stays retained on the broker.
    late = MqttRecorder(broker)
    late.wait_topic(f"{BASE}/camera/5101")
    time.sleep(0.3)
    leftovers = [m.topic for m in late.messages if "5102" in m.topic]
    late.close()
    assert leftovers == []


def test_failed_polls_never_remove(start_bridge: StartBridge, recorder: MqttRecorder,
                                   cloud: LocalBlinkCloud) -> None:
    start_bridge()
    wait_ready(recorder)
    mark = recorder.mark()
    cloud.inject_fault(r"/homescreen$", "status", count=4, status=200,
                       body={"networks": [], "cameras": [], "owls": [{"name": "no id"}]})
    time.sleep(2.5)
    cleared = [m for m in recorder.messages[mark:] if m.payload == b""]
    assert cleared == []


def test_outage_keeps_state_and_recovers(start_bridge: StartBridge, recorder: MqttRecorder,
                                         cloud: LocalBlinkCloud) -> None:
    start_bridge()
    wait_ready(recorder)
    mark = recorder.mark()
    cloud.inject_fault(r"/homescreen$", "status", count=3, status=503, body={"message": "down"})
    cloud.inject_fault(r"/homescreen$", "non_json", count=1)
    offline = recorder.wait_topic(f"{FRONT_YARD}/availability", after=mark, timeout=15)
    assert offline.payload == b"offline"
    online = recorder.wait_for(lambda m: m.topic == f"{FRONT_YARD}/availability"
                               and m.payload == b"online", after=mark, timeout=20,
                               description="availability back online")
    assert online.payload == b"online"
    device_states = [m for m in recorder.messages[mark:]
                     if m.topic in (HOME, FRONT_YARD) and m.payload]
    assert device_states == []  # no false state while Blink was down


# Two-factor login over MQTT -----------------------------------------------------

def test_pin_over_mqtt(start_bridge: StartBridge, recorder: MqttRecorder,
                       cloud: LocalBlinkCloud) -> None:
    cloud.set_two_factor(True, "202")
    start_bridge()
    auth = recorder.wait_topic(f"{BASE}/bridge/auth", where=lambda p: p["state"] == "pin_required")
    assert "pin" in auth.json()["message"].lower()

    mark = recorder.mark()
    recorder.publish(f"{BASE}/bridge/request/pin", {"pin": "000000", "transaction": 1})
    wrong = recorder.wait_topic(f"{BASE}/bridge/response/pin", after=mark).json()
    assert wrong["status"] == "error"
    assert wrong["transaction"] == 1

    mark = recorder.mark()
    recorder.publish(f"{BASE}/bridge/request/pin", DEMO_PIN)
    answer = recorder.wait_topic(f"{BASE}/bridge/response/pin", after=mark).json()
    assert answer["status"] == "ok"
    wait_ready(recorder)
    assert cloud.signins == 1
    assert cloud.sms_sent == 1
    payloads = b"".join(m.payload for m in recorder.messages)
    assert DEMO_PIN.encode() not in payloads.replace(b'"pin": "123456"', b"")  \
        or all(DEMO_PIN.encode() not in m.payload for m in recorder.messages
               if not m.topic.startswith(f"{BASE}/bridge/request/"))


def test_refresh_and_discovery_requests(start_bridge: StartBridge, recorder: MqttRecorder) -> None:
    start_bridge()
    wait_ready(recorder)
    mark = recorder.mark()
    recorder.publish(f"{BASE}/bridge/request/refresh", {"transaction": "r1"})
    refreshed = recorder.wait_topic(f"{BASE}/bridge/response/refresh", after=mark).json()
    assert refreshed["status"] == "ok"
    assert refreshed["transaction"] == "r1"
    recorder.publish(f"{BASE}/bridge/request/discovery", "")
    discovered = recorder.wait_topic(f"{BASE}/bridge/response/discovery", after=mark).json()
    assert discovered["data"]["devices"] == 8
    recorder.publish(f"{BASE}/bridge/request/nonsense", "")
    unknown = recorder.wait_topic(f"{BASE}/bridge/response/nonsense", after=mark).json()
    assert unknown["status"] == "error"
    assert "known requests" in unknown["error"]


def test_live_retained_command_ignored_mqtt5(start_bridge: StartBridge, broker: PrivateBroker,
                                             recorder: MqttRecorder,
                                             cloud: LocalBlinkCloud) -> None:
    start_bridge(mqtt={"protocol": "5"})
    wait_ready(recorder)
    mark = recorder.mark()
    recorder.publish(f"{HOME}/set", "ARM_AWAY", retain=True)
    response = recorder.wait_topic(f"{HOME}/response", after=mark).json()
    assert response["reason"] == "retained"
    time.sleep(0.5)
    assert cloud.count_requests(path_regex=r"/state/arm$") == 0
