"""The command line: interactive login with a PIN, then run without one."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import yaml

from blink2mqtt.broker import PrivateBroker
from blink2mqtt.simulator import DEMO_EMAIL, DEMO_PASSWORD, DEMO_PIN, LocalBlinkCloud

from conftest import BridgeThread, MqttRecorder, bridge_config
from test_bridge import wait_ready


def cli(*args: str, stdin: str = "",
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "blink2mqtt", *args], input=stdin,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_login_with_pin_then_run(cloud: LocalBlinkCloud, broker: PrivateBroker,
                                 tmp_path: Path, recorder: MqttRecorder) -> None:
    cloud.set_two_factor(True, "412")
    config = bridge_config(cloud, broker, tmp_path)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"blink": {
        "token_file": config.blink["token_file"], "hosts": config.blink["hosts"]}}),
        encoding="utf-8")

    # The email comes from the prompt and the password from the environment, because
    # getpass reads the terminal rather than standard input.
    result = cli("login", "-c", str(path), stdin=f"{DEMO_EMAIL}\n000000\n{DEMO_PIN}\n",
                 env={"BLINK2MQTT_BLINK_PASSWORD": DEMO_PASSWORD})
    assert result.returncode == 0, result.stderr
    assert "Logged in: account 74521" in result.stdout
    assert "rejected" in result.stderr.lower()
    token_file = Path(config.blink["token_file"])
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    assert cloud.sms_sent == 1

    runner = BridgeThread(config).start()
    try:
        wait_ready(recorder)
    finally:
        runner.stop()
    assert cloud.signins == 1  # run used the stored session: no second sign-in, no SMS
    assert cloud.sms_sent == 1


def test_version_and_help() -> None:
    version = cli("--version")
    assert version.stdout.startswith("blink2mqtt ")
    help_text = cli("--help").stdout
    for command in ("run", "login", "check-config", "simulator", "demo"):
        assert command in help_text
