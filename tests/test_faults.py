"""Faults a home setup throws at the bridge: broker restarts, kills, Blink failures."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from blink2mqtt.broker import PrivateBroker
from blink2mqtt.simulator import LocalBlinkCloud

from conftest import BridgeThread, MqttRecorder, bridge_config
from test_bridge import BASE, CABIN, FRONT_YARD, HOME, final_response, wait_ready

StartBridge = Callable[..., BridgeThread]


def write_config(path: Path, cloud: LocalBlinkCloud, broker: PrivateBroker, tmp_path: Path,
                 **sections: dict[str, Any]) -> Path:
    config = bridge_config(cloud, broker, tmp_path, **sections)
    document = {name: {key: value for key, value in getattr(config, name).items()
                       if value is not None}
                for name in ("blink", "mqtt", "homeassistant", "bridge", "media")}
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def start_process(config_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "blink2mqtt", "run", "-c", str(config_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# Broker ------------------------------------------------------------------------------

@pytest.mark.parametrize("persistence", [False, True], ids=["no-persistence", "persistence"])
def test_broker_restart(cloud: LocalBlinkCloud, tmp_path: Path, persistence: bool) -> None:
    with PrivateBroker(persistence=persistence) as broker:
        runner = BridgeThread(bridge_config(cloud, broker, tmp_path)).start()
        try:
            watcher = MqttRecorder(broker)
            wait_ready(watcher)
            watcher.close()

            broker.stop()
            down_since = cloud.count_requests()
            time.sleep(3.0)  # the bridge keeps polling Blink, and paho backs off between tries
            assert runner.bridge is not None
            connects_while_down = runner.bridge.mqtt.statistics.connects
            broker.start()

            watcher = MqttRecorder(broker)
            wait_ready(watcher)
            assert watcher.wait_topic(f"{BASE}/bridge/state").payload == b"online"
            watcher.wait_topic(f"homeassistant/alarm_control_panel/{BASE}/network_2101_alarm/config")
            assert runner.bridge.mqtt.statistics.connects == connects_while_down + 1
            # Polling went on at its own pace, not in a tight loop.
            assert cloud.count_requests() - down_since < 40

            mark = watcher.mark()
            watcher.publish(f"{HOME}/set", {"armed": True, "transaction": "after"})
            assert final_response(watcher, HOME, mark)["status"] == "ok"
            watcher.close()
        finally:
            runner.stop()


# Bridge killed --------------------------------------------------------------------------

def test_sigkill_restart_keeps_commands_and_events(cloud: LocalBlinkCloud, broker: PrivateBroker,
                                                   tmp_path: Path,
                                                   recorder: MqttRecorder) -> None:
    config_path = write_config(tmp_path / "config.yaml", cloud, broker, tmp_path,
                               mqtt={"keepalive": 5})
    process = start_process(config_path)
    try:
        wait_ready(recorder)
        while cloud.count_requests(path_regex=r"/media/changed") < 1:
            time.sleep(0.05)
        motion = cloud.trigger_motion(4101)
        recorder.wait_for(lambda m: m.topic == f"{FRONT_YARD}/event", description="first event")

        mark = recorder.mark()
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        offline = recorder.wait_topic(f"{BASE}/bridge/state", after=mark, timeout=15)
        assert offline.payload == b"offline"

        # Sent while the bridge is down: the broker queues it in the bridge's session.
        recorder.publish(f"{HOME}/set", {"armed": True, "transaction": "while-down"})
        process = start_process(config_path)
        response = final_response(recorder, HOME, mark, timeout=20)
        assert response["status"] == "ok"
        assert response["transaction"] == "while-down"
        assert cloud.count_requests(path_regex=r"/state/arm$") == 1

        reads = cloud.count_requests(path_regex=r"/media/changed")
        while cloud.count_requests(path_regex=r"/media/changed") < reads + 3:
            time.sleep(0.05)
        reported = [(m.json()["event_type"], m.json()["media_id"]) for m in recorder.messages
                    if m.topic.endswith("/event")]
        assert reported.count(("motion", motion)) == 1
        assert reported.count(("clip_ready", motion)) == 1
    finally:
        process.kill()
        process.wait(10)


# Blink faults during polls ------------------------------------------------------------

@pytest.mark.parametrize(("kind", "options"), [
    ("delay", {"delay": 2.5}),
    ("status", {"status": 502, "body": {"message": "Bad gateway"}}),
    ("truncated_json", {}),
    ("non_json", {}),
    ("status", {"status": 200, "body": {"message": "nothing here"}}),
    ("blocked", {}),
    ("app_update_426", {}),
], ids=["timeout", "5xx", "truncated", "non-json", "empty-homescreen", "406", "426"])
def test_poll_faults_publish_nothing_false(start_bridge: StartBridge, recorder: MqttRecorder,
                                           cloud: LocalBlinkCloud, kind: str,
                                           options: dict[str, Any]) -> None:
    start_bridge(bridge={"failure_backoff_max": 0.5})
    wait_ready(recorder)
    mark = recorder.mark()
    cloud.inject_fault(r"/homescreen$", kind, count=3, **options)
    failed_from = cloud.count_requests(path_regex=r"/homescreen$")
    while cloud.count_requests(path_regex=r"/homescreen$") < failed_from + 5:
        time.sleep(0.05)
    device_messages = [m for m in recorder.messages[mark:]
                       if m.topic in (HOME, CABIN, FRONT_YARD) or m.payload == b""]
    assert device_messages == []
    recorder.wait_topic(f"{BASE}/bridge/auth", where=lambda p: p["state"] == "ok")
    # Recovered by itself: a command works.
    mark = recorder.mark()
    recorder.publish(f"{FRONT_YARD}/get", "")
    assert final_response(recorder, FRONT_YARD, mark)["status"] == "ok"


def test_rate_limit_storm_honours_retry_after(start_bridge: StartBridge, recorder: MqttRecorder,
                                              cloud: LocalBlinkCloud) -> None:
    start_bridge()
    wait_ready(recorder)
    cloud.inject_fault(r"/homescreen$", "rate_limit", count=3, retry_after=2)
    deadline = time.monotonic() + 10
    while not any(r.status == 429 for r in cloud.requests):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    limited_at = next(r.time for r in cloud.requests if r.status == 429)
    auth = recorder.wait_topic(f"{BASE}/bridge/auth", where=lambda p: p["state"] == "rate_limited")
    assert "retry_at" in auth.json()

    mark = recorder.mark()
    recorder.publish(f"{HOME}/set", {"armed": True, "transaction": "during-429"})
    refused = final_response(recorder, HOME, mark)
    assert refused["reason"] == "rate_limited"

    time.sleep(2.5)
    during = [r for r in cloud.requests if limited_at < r.time < limited_at + 1.95]
    assert during == []


def test_expired_token_refreshed_during_polls(start_bridge: StartBridge, recorder: MqttRecorder,
                                              cloud: LocalBlinkCloud) -> None:
    start_bridge()
    wait_ready(recorder)
    cloud.expire_tokens()
    mark = recorder.mark()
    recorder.publish(f"{HOME}/set", "ARM_AWAY")
    assert final_response(recorder, HOME, mark)["status"] == "ok"
    assert cloud.refreshes == 1
    assert cloud.signins == 1


def test_refresh_fails_once_then_works(start_bridge: StartBridge, recorder: MqttRecorder,
                                       cloud: LocalBlinkCloud) -> None:
    start_bridge(bridge={"failure_backoff_max": 0.5})
    wait_ready(recorder)
    token_requests = cloud.count_requests(path_regex=r"/oauth/token$")
    cloud.inject_fault(r"/oauth/token$", "status", count=1, status=503, body={"error": "down"})
    cloud.expire_tokens()
    before = cloud.count_requests(path_regex=r"/homescreen$")
    while cloud.count_requests(path_regex=r"/homescreen$") < before + 4:
        time.sleep(0.05)
    assert recorder.wait_topic(f"{BASE}/bridge/auth", where=lambda p: p["state"] == "ok")
    # One refresh failed with 503, the next poll's refresh worked; no new sign-in.
    assert cloud.count_requests(path_regex=r"/oauth/token$") == token_requests + 2
    assert cloud.signins == 1


def test_persistent_auth_failure_stops_requests(start_bridge: StartBridge,
                                                recorder: MqttRecorder,
                                                cloud: LocalBlinkCloud) -> None:
    # 0.05 s polls: 200 poll intervals stand for 3 hours 20 minutes at 60 s.
    start_bridge(bridge={"poll_interval": 0.05, "failure_backoff_max": 0.2})
    wait_ready(recorder)
    cloud.revoke_refresh_tokens()
    cloud.expire_tokens()
    recorder.wait_topic(f"{BASE}/bridge/auth", where=lambda p: p["state"] == "login_required")
    settled = len(cloud.requests)
    time.sleep(10.0)
    assert len(cloud.requests) == settled
    assert cloud.signins == 1  # only the first login; none started by the bridge afterwards
    assert cloud.refreshes == 1

    mark = recorder.mark()
    recorder.publish(f"{HOME}/set", "ARM_AWAY")
    refused = final_response(recorder, HOME, mark)
    assert refused["reason"] == "login_required"
    assert len(cloud.requests) == settled


# Blink faults during commands -----------------------------------------------------------

@pytest.mark.parametrize(("path", "kind", "options", "reason"), [
    (r"/state/arm$", "status", {"status": 500, "body": {"message": "oops"}}, "unavailable"),
    (r"/state/arm$", "delay", {"delay": 2.5}, "unavailable"),
    (r"/state/arm$", "non_json", {}, "unavailable"),
    (r"/state/arm$", "rate_limit", {"retry_after": 1}, "rate_limited"),
    (r"/state/arm$", "blocked", {}, "blocked"),
    (r"/state/arm$", "app_update_426", {}, "client_outdated"),
], ids=["5xx", "timeout", "non-json", "429", "406", "426"])
def test_command_faults_answered(start_bridge: StartBridge, recorder: MqttRecorder,
                                 cloud: LocalBlinkCloud, path: str, kind: str,
                                 options: dict[str, Any], reason: str) -> None:
    start_bridge()
    wait_ready(recorder)
    cloud.inject_fault(path, kind, count=1, **options)
    mark = recorder.mark()
    recorder.publish(f"{HOME}/set", {"armed": True, "transaction": kind})
    response = final_response(recorder, HOME, mark)
    assert response["status"] == "error"
    assert response["reason"] == reason
    assert response["transaction"] == kind
    states = [m.json()["state"] for m in recorder.messages[mark:] if m.topic == HOME]
    assert states[-1] == "disarmed"
    assert "armed_away" not in states


def test_status_poll_faults_are_retried(start_bridge: StartBridge, recorder: MqttRecorder,
                                        cloud: LocalBlinkCloud) -> None:
    start_bridge()
    wait_ready(recorder)
    cloud.inject_fault(r"/command/\d+$", "status", count=2, status=503, body={"message": "x"})
    mark = recorder.mark()
    recorder.publish(f"{HOME}/set", "ARM_AWAY")
    assert final_response(recorder, HOME, mark)["status"] == "ok"
    assert recorder.latest(HOME).json()["state"] == "armed_away"


def test_command_after_401_refreshes(start_bridge: StartBridge, recorder: MqttRecorder,
                                     cloud: LocalBlinkCloud) -> None:
    start_bridge()
    wait_ready(recorder)
    cloud.inject_fault(r"/state/arm$", "status", count=1, status=401,
                       body={"message": "Unauthorized Access", "code": 101})
    mark = recorder.mark()
    recorder.publish(f"{HOME}/set", "ARM_AWAY")
    assert final_response(recorder, HOME, mark)["status"] == "ok"
    assert cloud.refreshes == 1
