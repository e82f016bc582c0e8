"""A large account end to end, and a time-compressed soak."""

from __future__ import annotations

import gc
import json
import os
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from blink2mqtt.broker import PrivateBroker
from blink2mqtt.simulator import LocalBlinkCloud

from conftest import BridgeThread, MqttRecorder, bridge_config
from test_bridge import BASE, final_response

# CI runs the short form; set BLINK2MQTT_SOAK_CYCLES=5000 for a long soak.
SOAK_CYCLES = int(os.environ.get("BLINK2MQTT_SOAK_CYCLES", "400"))
FAMILIES = ("camera", "camera", "camera", "camera", "camera", "camera", "mini", "mini",
            "doorbell", "camera")


def build_account(cloud: LocalBlinkCloud, networks: int, cameras_per_network: int) -> list[int]:
    camera_ids: list[int] = []
    for network_index in range(networks):
        network_id = cloud.add_network(f"Site {network_index + 1}", with_sync_module=True)
        for camera_index in range(cameras_per_network):
            family = FAMILIES[camera_index % len(FAMILIES)]
            camera_ids.append(cloud.add_camera(network_id, family,
                                               f"Site {network_index + 1} cam {camera_index + 1}"))
    return camera_ids


class CountingClient:
    """Counts messages per topic without keeping payloads, so a soak measures the bridge."""

    def __init__(self, broker: PrivateBroker) -> None:
        self.counts: dict[str, int] = {}
        self.last: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._client = paho.Client(CallbackAPIVersion.VERSION2)
        self._client.on_message = self._on_message
        self._client.connect(broker.host, broker.port)
        self._client.subscribe(f"{BASE}/#", qos=1)
        self._client.loop_start()

    def _on_message(self, client: Any, userdata: Any, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.counts[message.topic] = self.counts.get(message.topic, 0) + 1
            if not message.topic.endswith("/image"):
                self.last[message.topic] = bytes(message.payload)

    def count(self, topic: str) -> int:
        with self._lock:
            return self.counts.get(topic, 0)

    def json(self, topic: str) -> Any:
        with self._lock:
            return json.loads(self.last[topic])

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def wait_until(condition: Any, timeout: float, description: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {description}"
        time.sleep(0.02)


def test_large_account_end_to_end(broker: PrivateBroker, tmp_path: Path) -> None:
    with LocalBlinkCloud(port=0, demo=False, command_polls_to_complete=1,
                         command_max_seconds=1.0) as cloud:
        camera_ids = build_account(cloud, networks=10, cameras_per_network=10)
        recorder = MqttRecorder(broker)
        runner = BridgeThread(bridge_config(cloud, broker, tmp_path,
                                            bridge={"poll_interval": 2.0})).start()
        try:
            for camera_id in camera_ids:
                recorder.wait_topic(f"{BASE}/camera/{camera_id}", timeout=30)
            devices = recorder.wait_topic(f"{BASE}/bridge/devices",
                                          where=lambda p: len(p) == 110, timeout=30).json()
            assert sum(1 for d in devices if d["kind"] == "camera") == 100
            configs = {m.topic for m in recorder.messages if m.topic.startswith("homeassistant/")}
            assert len(configs) > 100 * 8

            # Commands on all ten networks at once each complete.
            network_ids = sorted({d["id"] for d in devices if d["kind"] == "network"})
            mark = recorder.mark()
            for network_id in network_ids:
                recorder.publish(f"{BASE}/network/{network_id}/set",
                                 {"armed": True, "transaction": network_id})
            for network_id in network_ids:
                response = final_response(recorder, f"{BASE}/network/{network_id}", mark,
                                          timeout=20)
                assert response["status"] == "ok", response
            # Per quiet poll cycle: one homescreen and one media list, whatever the size.
            before = len(cloud.requests)
            homescreens = cloud.count_requests(path_regex=r"/homescreen$")
            wait_until(lambda: cloud.count_requests(path_regex=r"/homescreen$") >= homescreens + 2,
                       10, "two quiet polls")
            time.sleep(0.3)
            sent = cloud.requests[before:]
            polls = sum(1 for r in sent if r.path.endswith("/homescreen"))
            assert len(sent) <= 2 * polls + 2
        finally:
            runner.stop()
            recorder.close()


def test_soak_changing_data_and_commands(broker: PrivateBroker, tmp_path: Path) -> None:
    with LocalBlinkCloud(port=0, command_polls_to_complete=1, command_max_seconds=0.5) as cloud:
        counter = CountingClient(broker)
        config = bridge_config(cloud, broker, tmp_path,
                               bridge={"poll_interval": 0.01, "failure_backoff_max": 0.05},
                               media={"motion_hold_time": 0.05})
        runner = BridgeThread(config).start()
        topic = f"{BASE}/camera/4101"
        try:
            wait_until(lambda: counter.count(topic) >= 1, 10, "first state")
            tracemalloc.start()
            cleared_cycles = -cloud.count_requests(path_regex=r"/homescreen$")
            changes = 0
            commands = 0
            snapshot_at_start = None
            def cycles() -> int:
                return cleared_cycles + cloud.count_requests(path_regex=r"/homescreen$")

            while cycles() < SOAK_CYCLES:
                changes += 1
                cloud.update_camera(4101, temperature_f=40 + changes % 50,
                                    battery_level=changes % 4)
                wait_until(lambda: counter.json(topic)["temperature_f"] == 40 + changes % 50,
                           5, f"change {changes}")
                if changes % 10 == 0:
                    commands += 1
                    transaction = f"soak-{commands}"
                    response_topic = f"{BASE}/camera/4101/response"
                    before = counter.count(response_topic)
                    publish = paho.Client(CallbackAPIVersion.VERSION2)
                    publish.connect(broker.host, broker.port)
                    publish.loop_start()
                    publish.publish(f"{BASE}/camera/4101/get",
                                    json.dumps({"transaction": transaction}), qos=1
                                    ).wait_for_publish(5)
                    publish.loop_stop()
                    publish.disconnect()
                    wait_until(lambda: counter.count(response_topic) >= before + 2, 10,
                               f"answer to {transaction}")
                    assert counter.json(response_topic)["transaction"] == transaction
                if changes % 25 == 0:
                    cloud.trigger_motion(4102)
                    # The request log would grow with the soak; keep its count and clear it.
                    cleared_cycles += cloud.count_requests(path_regex=r"/homescreen$")
                    cloud.clear_requests()
                if snapshot_at_start is None and changes == 20:
                    gc.collect()
                    snapshot_at_start = tracemalloc.take_snapshot()

            gc.collect()
            final = tracemalloc.take_snapshot()
            tracemalloc.stop()
            assert snapshot_at_start is not None
            growth = sum(stat.size_diff for stat in final.compare_to(snapshot_at_start, "filename"))
            # Retained payload caches and seen media ids are bounded; allow small noise.
            assert growth < 2 * 1024 * 1024, f"memory grew by {growth} bytes"
            # Each change was published once, nothing more: one initial state plus the
            # changes, motion on/off pairs and the motion-time updates.
            state_messages = counter.count(topic)
            assert state_messages <= 1 + changes + commands
            assert state_messages >= changes
            assert runner.bridge is not None and runner.bridge.mqtt.connected
        finally:
            runner.stop()
            counter.close()
