"""Shared fixtures: a real mosquitto per test, the local Blink cloud, and a bridge runner."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from blink2mqtt.broker import PrivateBroker, find_mosquitto
from blink2mqtt.config import Config, validate_config
from blink2mqtt.simulator import DEMO_EMAIL, DEMO_PASSWORD, LocalBlinkCloud

DEFAULT_WAIT = 10.0


@pytest.fixture
def broker() -> Iterator[PrivateBroker]:
    if find_mosquitto() is None:
        pytest.fail("mosquitto is not installed; .ci/run installs it (apt-get install mosquitto)")
    with PrivateBroker() as running:
        yield running


@pytest.fixture
def cloud() -> Iterator[LocalBlinkCloud]:
    with LocalBlinkCloud(port=0, command_polls_to_complete=2, command_max_seconds=2.0,
                         stuck_command_seconds=3.0) as running:
        yield running


def bridge_config(cloud: LocalBlinkCloud, broker: PrivateBroker | None, tmp_path: Path,
                  **sections: dict[str, Any]) -> Config:
    """A config for the local cloud and broker with time compressed for tests."""
    raw: dict[str, Any] = {
        "blink": {
            "email": DEMO_EMAIL, "password": DEMO_PASSWORD,
            "token_file": str(tmp_path / "tokens.json"),
            "hosts": {"oauth_url": cloud.oauth_url, "rest_prod_url": cloud.rest_prod_url,
                      "tier_url_template": cloud.tier_url_template},
            "timeout": 2.0, "command_timeout": 5.0, "command_poll_interval": 0.05,
            "busy_retry_delays": [0.2, 0.4],
        },
        "mqtt": {"host": "127.0.0.1", "port": broker.port if broker else 1,
                 "reconnect_min_delay": 1, "reconnect_max_delay": 2},
        "homeassistant": {"birth_delay": 0.2},
        "bridge": {"poll_interval": 0.5, "offline_after_failed_polls": 2,
                   "remove_after_missing_polls": 2, "failure_backoff_max": 1.0},
        "media": {"seen_file": str(tmp_path / "media.json"), "motion_hold_time": 0.5,
                  "snapshot_min_interval": 0.5, "snapshot_wait": 2.0},
    }
    for section, values in sections.items():
        raw.setdefault(section, {}).update(values)
    return validate_config(raw)


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    retain: bool
    properties: Any = None

    def json(self) -> Any:
        return json.loads(self.payload)


def _disable_nagle(client: Any, userdata: Any, sock: Any) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class MqttRecorder:
    """A real MQTT client that records every message it receives, for assertions."""

    def __init__(self, broker: PrivateBroker, *, protocol: int = paho.MQTTv311,
                 subscribe: tuple[str, ...] = ("#",)) -> None:
        self.messages: list[Message] = []
        self._condition = threading.Condition()
        self._client = paho.Client(CallbackAPIVersion.VERSION2, protocol=protocol)
        self._client.on_message = self._on_message
        self._client.on_socket_open = _disable_nagle
        self._subscribed = threading.Event()
        self._client.on_subscribe = lambda *args: self._subscribed.set()
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()
        for topic in subscribe:
            self._subscribed.clear()
            self._client.subscribe(topic, qos=1)
            assert self._subscribed.wait(5), f"subscription to {topic} not acknowledged"

    def _on_message(self, client: Any, userdata: Any, message: paho.MQTTMessage) -> None:
        with self._condition:
            self.messages.append(Message(message.topic, bytes(message.payload),
                                         bool(message.retain),
                                         getattr(message, "properties", None)))
            self._condition.notify_all()

    def publish(self, topic: str, payload: bytes | str | dict[str, Any] = b"", *,
                retain: bool = False, properties: Any = None) -> None:
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        info = self._client.publish(topic, payload, qos=1, retain=retain, properties=properties)
        info.wait_for_publish(5)

    def wait_for(self, predicate: Callable[[Message], bool], *, timeout: float = DEFAULT_WAIT,
                 after: int = 0, description: str = "a matching message") -> Message:
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                for message in self.messages[after:]:
                    if predicate(message):
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    recent = "\n".join(f"  {m.topic} {m.payload[:160]!r}"
                                       for m in self.messages[-25:])
                    raise AssertionError(f"timed out waiting for {description}; last messages:\n"
                                         f"{recent}")
                self._condition.wait(remaining)

    def wait_topic(self, topic: str, *, timeout: float = DEFAULT_WAIT, after: int = 0,
                   where: Callable[[Any], bool] | None = None) -> Message:
        def matches(message: Message) -> bool:
            if message.topic != topic:
                return False
            if where is None:
                return True
            try:
                return bool(where(message.json()))
            except (ValueError, TypeError, KeyError):
                return False
        return self.wait_for(matches, timeout=timeout, after=after, description=f"{topic}")

    def latest(self, topic: str) -> Message | None:
        with self._condition:
            for message in reversed(self.messages):
                if message.topic == topic:
                    return message
        return None

    def on_topic(self, topic: str) -> list[Message]:
        with self._condition:
            return [message for message in self.messages if message.topic == topic]

    def mark(self) -> int:
        with self._condition:
            return len(self.messages)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


class BridgeThread:
    """Runs a Bridge in its own thread and event loop, as a service runs it."""

    def __init__(self, config: Config) -> None:
        from blink2mqtt.bridge.bridge import Bridge

        self.config = config
        self._ready = threading.Event()
        self.bridge: Bridge | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="bridge", daemon=True)

    def _main(self) -> None:
        from blink2mqtt.bridge.bridge import Bridge

        async def run() -> None:
            self.loop = asyncio.get_running_loop()
            self.bridge = Bridge(self.config)
            self._ready.set()
            await self.bridge.run()

        try:
            asyncio.run(run())
        except BaseException as err:  # noqa: BLE001 - reported by stop()
            self.error = err
            self._ready.set()

    def start(self) -> BridgeThread:
        self._thread.start()
        assert self._ready.wait(10), "bridge did not start"
        return self

    def call(self, function: Callable[[], Any]) -> Any:
        """Run a function in the bridge's loop and return its result."""
        assert self.loop is not None
        async def wrapper() -> Any:
            return function()
        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(10)

    def stop(self) -> None:
        if self.bridge is not None and self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.bridge.stop)
        self._thread.join(15)
        assert not self._thread.is_alive(), "bridge did not stop"
        if self.error is not None:
            raise self.error


@pytest.fixture
def recorder(broker: PrivateBroker) -> Iterator[MqttRecorder]:
    client = MqttRecorder(broker)
    yield client
    client.close()


@pytest.fixture
def start_bridge(cloud: LocalBlinkCloud, broker: PrivateBroker,
                 tmp_path: Path) -> Iterator[Callable[..., BridgeThread]]:
    started: list[BridgeThread] = []

    def start(**sections: dict[str, Any]) -> BridgeThread:
        runner = BridgeThread(bridge_config(cloud, broker, tmp_path, **sections)).start()
        started.append(runner)
        return runner

    yield start
    for runner in started:
        runner.stop()
