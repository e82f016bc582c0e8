"""Container health check: exit 0 only while the bridge's retained state is ``online``.

Usage: ``python -m blink2mqtt.healthcheck -c /config/config.yaml [--timeout 10]``

The check connects to the broker from the config, subscribes to
``<base>/bridge/state`` and reads the retained message. The bridge publishes
``online`` when it connects and the broker publishes the bridge's will,
``offline``, when its connection drops, so the value follows the bridge.

Exit codes follow Docker's HEALTHCHECK contract, which reserves 2: 0 when the
state is ``online``, 1 for everything else (``offline``, no retained state,
broker unreachable, invalid config, timeout). The reason goes to stderr.
"""

from __future__ import annotations

import argparse
import ssl
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Sequence

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from .bridge.mqtt import MqttSettings
from .bridge.topics import ONLINE, Topics
from .config import ConfigError, load_config

HEALTHY = 0
UNHEALTHY = 1

DEFAULT_TIMEOUT_SECONDS = 10.0
# A broker sends retained messages right after the SUBACK, so no message within
# this many seconds after it means that no state is retained. The value is an
# estimate with a wide margin for a broker on the same network.
RETAINED_GRACE_SECONDS = 1.5


class _StateReader:
    """A one-shot MQTT client that waits for the retained bridge state."""

    def __init__(self, settings: MqttSettings, topic: str) -> None:
        self.topic = topic
        self.state: bytes | None = None
        self.failure: str | None = None
        self.connected = threading.Event()
        # Set when the broker acknowledged the subscription or rejected the connection.
        self.settled = threading.Event()
        self.received = threading.Event()

        protocol = paho.MQTTv5 if settings.is_v5 else paho.MQTTv311
        # Never the bridge's own client id: the broker would disconnect the bridge.
        client_id = f"blink2mqtt-healthcheck-{uuid.uuid4().hex[:12]}"
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=protocol,
                                  clean_session=None if settings.is_v5 else True)
        if settings.username:
            self.client.username_pw_set(settings.username, settings.password)
        if settings.tls_enabled:
            self.client.tls_set(
                ca_certs=settings.tls_ca_file, certfile=settings.tls_cert_file,
                keyfile=settings.tls_key_file,
                cert_reqs=ssl.CERT_NONE if settings.tls_insecure else ssl.CERT_REQUIRED)
            if settings.tls_insecure:
                self.client.tls_insecure_set(True)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any,
                    reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            self.failure = f"the broker rejected the connection: {reason_code}"
            self.settled.set()
            return
        self.connected.set()
        client.subscribe(self.topic, qos=1)

    def _on_subscribe(self, client: paho.Client, userdata: Any, mid: int,
                      reason_codes: Any, properties: Any) -> None:
        failed = [code for code in reason_codes if code.is_failure]
        if failed:
            self.failure = f"the broker rejected the subscription to {self.topic}: {failed[0]}"
        self.settled.set()

    def _on_message(self, client: paho.Client, userdata: Any,
                    message: paho.MQTTMessage) -> None:
        if message.topic == self.topic and self.state is None:
            self.state = bytes(message.payload)
            self.received.set()


def read_bridge_state(settings: MqttSettings, topic: str, *, timeout: float) -> bytes | None:
    """Return the retained payload of ``topic``, or None when the broker retains none.

    Raises TimeoutError when the broker does not respond within ``timeout``
    seconds and ConnectionError when it cannot be reached or rejects the login.
    """
    reader = _StateReader(settings, topic)
    deadline = time.monotonic() + timeout
    reader.client.connect_timeout = max(0.1, timeout)
    try:
        reader.client.connect(settings.host, settings.port,
                              keepalive=max(5, min(settings.keepalive, 60)))
    except (OSError, ValueError) as err:
        raise ConnectionError(f"cannot connect to MQTT broker {settings.host}:{settings.port}: "
                              f"{err}") from None

    reader.client.loop_start()
    try:
        if not reader.settled.wait(max(0.0, deadline - time.monotonic())):
            stage = "subscribe" if reader.connected.is_set() else "connect"
            raise TimeoutError(f"the MQTT broker {settings.host}:{settings.port} did not "
                               f"acknowledge the {stage} within {timeout:g} s")
        if reader.failure is not None:
            raise ConnectionError(reader.failure)
        grace = min(RETAINED_GRACE_SECONDS, max(0.0, deadline - time.monotonic()))
        reader.received.wait(grace)
        return reader.state
    finally:
        reader.client.disconnect()
        reader.client.loop_stop()


def check(config_path: Path, *, timeout: float) -> tuple[int, str]:
    """Return the exit code and a one-line reason for the bridge of this config."""
    try:
        config = load_config(config_path)
    except ConfigError as err:
        return UNHEALTHY, f"invalid configuration: {err}"

    settings = MqttSettings.from_config(config.mqtt)
    topic = Topics(base=config.mqtt["base_topic"]).bridge_state
    try:
        state = read_bridge_state(settings, topic, timeout=timeout)
    except (ConnectionError, TimeoutError) as err:
        return UNHEALTHY, str(err)

    if state is None:
        return UNHEALTHY, f"no retained message on {topic}; the bridge has not connected yet"
    text = state.decode("utf-8", errors="replace").strip()
    if text != ONLINE:
        return UNHEALTHY, f"{topic} is '{text}', expected '{ONLINE}'"
    return HEALTHY, f"{topic} is '{ONLINE}'"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m blink2mqtt.healthcheck",
        description="Exit 0 when the bridge's retained <base>/bridge/state is 'online', "
                    "1 otherwise.")
    parser.add_argument("-c", "--config", type=Path, required=True, help="path to config.yaml")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS,
                        metavar="SECONDS",
                        help=f"maximum seconds to wait for the broker "
                             f"(default {DEFAULT_TIMEOUT_SECONDS:g})")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print nothing when the bridge is healthy")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.timeout <= 0:
        print("blink2mqtt healthcheck: --timeout must be more than 0 seconds", file=sys.stderr)
        return UNHEALTHY
    code, reason = check(args.config, timeout=args.timeout)
    if code == HEALTHY:
        if not args.quiet:
            print(f"healthy: {reason}")
    else:
        print(f"unhealthy: {reason}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
