"""The demo command, and the brokers it starts when none is configured."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from blink2mqtt.broker import EmbeddedBroker, free_port
from blink2mqtt.simulator import LocalBlinkCloud

from conftest import BridgeThread, MqttRecorder, bridge_config
from test_bridge import BASE, HOME, final_response, wait_ready


def test_demo_starts_private_broker(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    unused = free_port()
    config.write_text(f"mqtt:\n  host: 127.0.0.1\n  port: {unused}\n", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "blink2mqtt", "demo", "-c", str(config), "--poll-interval", "1",
         "--motion-every", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 20
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if line:
                lines.append(line)
            if any("Motion on camera" in entry for entry in lines):
                break
            time.sleep(0.05)
        output = "".join(lines)
        assert "starting a private mosquitto" in output
        assert "mosquitto_sub" in output
        assert "mosquitto_pub" in output
        assert "Motion on camera" in output
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    assert process.returncode == 0


@pytest.mark.skipif(not EmbeddedBroker.available(), reason="amqtt is not installed")
def test_bridge_on_embedded_broker(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    broker = EmbeddedBroker().start()
    try:
        recorder = MqttRecorder(broker)  # type: ignore[arg-type]
        runner = BridgeThread(bridge_config(cloud, broker, tmp_path)).start()  # type: ignore[arg-type]
        try:
            wait_ready(recorder)
            mark = recorder.mark()
            recorder.publish(f"{HOME}/set", {"armed": True, "transaction": "embedded"})
            assert final_response(recorder, HOME, mark)["status"] == "ok"
        finally:
            runner.stop()
            recorder.close()
    finally:
        broker.stop()
