"""The demo: the local Blink cloud and the bridge in one process, no account needed."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import tempfile
from dataclasses import replace
from pathlib import Path

from .broker import (
    BrokerUnavailableError,
    EmbeddedBroker,
    PrivateBroker,
    find_mosquitto,
    port_is_open,
)
from .config import Config, validate_config

_LOGGER = logging.getLogger(__name__)


def run_demo(config: Config, *, motion_every: float, poll_interval: float) -> int:
    from .bridge.bridge import Bridge
    from .simulator import DEMO_EMAIL, DEMO_PASSWORD, LocalBlinkCloud

    broker: PrivateBroker | EmbeddedBroker | None = None
    mqtt = dict(config.mqtt)
    if not port_is_open(mqtt["host"], mqtt["port"]):
        try:
            if find_mosquitto() is not None:
                print(f"No MQTT broker answers at {mqtt['host']}:{mqtt['port']}; "
                      "starting a private mosquitto for the demo.")
                broker = PrivateBroker().start()
            else:
                print(f"No MQTT broker answers at {mqtt['host']}:{mqtt['port']} and mosquitto "
                      "is not installed; starting the embedded amqtt broker for the demo.")
                broker = EmbeddedBroker().start()
        except BrokerUnavailableError as err:
            print(f"blink2mqtt demo: {err}")
            return 1
        mqtt.update(host=broker.host, port=broker.port, username=None, password=None)

    with tempfile.TemporaryDirectory(prefix="blink2mqtt-demo-") as state_dir, \
            LocalBlinkCloud(port=0) as cloud:
        demo_config = _demo_config(config, mqtt, cloud, Path(state_dir), poll_interval,
                                   DEMO_EMAIL, DEMO_PASSWORD)
        _print_banner(demo_config, cloud)

        async def main() -> None:
            bridge = Bridge(demo_config)
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, bridge.stop)
            if motion_every > 0:
                bridge.spawn(_trigger_motion(cloud, motion_every), "demo-motion")
            await bridge.run()

        try:
            asyncio.run(main())
        finally:
            if broker is not None:
                broker.close()
    return 0


def _demo_config(config: Config, mqtt: dict[str, object], cloud: object, state_dir: Path,
                 poll_interval: float, email: str, password: str) -> Config:
    raw = {
        "blink": {
            "email": email, "password": password,
            "token_file": str(state_dir / "tokens.json"),
            "hosts": {"oauth_url": cloud.oauth_url,  # type: ignore[attr-defined]
                      "rest_prod_url": cloud.rest_prod_url,  # type: ignore[attr-defined]
                      "tier_url_template": cloud.tier_url_template},  # type: ignore[attr-defined]
            "command_poll_interval": 0.5,
        },
        # Its own client id and no persistent session, so the demo never takes over
        # the session of a real bridge on the same broker or leaves one behind.
        "mqtt": {**{key: value for key, value in mqtt.items() if value is not None},
                 "client_id": f"blink2mqtt-demo-{os.getpid()}", "session_expiry": 0},
        "homeassistant": dict(config.homeassistant),
        "bridge": {**config.bridge, "poll_interval": poll_interval},
        "media": {**config.media, "seen_file": str(state_dir / "media.json"),
                  "snapshot_min_interval": 5.0},
        "logging": dict(config.logging),
    }
    return replace(validate_config(raw), source=None)


def _print_banner(config: Config, cloud: object) -> None:
    mqtt = config.mqtt
    base = mqtt["base_topic"]
    prefix = config.homeassistant["discovery_prefix"]
    print("blink2mqtt demo: a local Blink cloud with a demo account, bridged to MQTT.")
    print(f"  Local Blink cloud: {cloud.oauth_url.rsplit('/hosts', 1)[0]}")  # type: ignore[attr-defined]
    print(f"  MQTT broker:       {mqtt['host']}:{mqtt['port']}")
    print("Watch every topic:")
    print(f"  mosquitto_sub -h {mqtt['host']} -p {mqtt['port']} -v -t '{base}/#' -t '{prefix}/#'")
    print("Arm the 'Home' network and watch its response:")
    print(f"  mosquitto_pub -h {mqtt['host']} -p {mqtt['port']} -t '{base}/network/2101/set' "
          "-m '{\"armed\": true, \"transaction\": \"demo-1\"}'")
    print("Motion events appear on <base>/camera/<id>/event every few polls.")
    print("The demo's devices are retained on this broker under the topics above; on a broker "
          "that Home Assistant uses, they show up as demo devices. Use -c with another broker "
          "port to keep them apart.")
    print("Press Ctrl+C to stop.", flush=True)


async def _trigger_motion(cloud: object, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        state = await asyncio.to_thread(_camera_ids, cloud)
        if not state:
            continue
        camera_id = random.choice(state)
        _LOGGER.info("Demo: motion on camera %s", camera_id)
        await asyncio.to_thread(cloud.trigger_motion, camera_id)  # type: ignore[attr-defined]


def _camera_ids(cloud: object) -> list[int]:
    """Cameras that would record: motion detection on, preferably on an armed network."""
    snapshot = cloud.state_snapshot()  # type: ignore[attr-defined]
    armed = {network["id"] for network in snapshot.get("networks", []) if network.get("armed")}
    enabled = [device for device in snapshot.get("devices", []) if device.get("motion_enabled")]
    preferred = [device for device in enabled if device.get("network_id") in armed]
    return [int(device["id"]) for device in (preferred or enabled)]
