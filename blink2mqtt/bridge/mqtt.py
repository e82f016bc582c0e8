"""paho-mqtt connection that feeds the bridge's asyncio event loop.

paho runs its network loop in its own thread and reconnects with exponential
backoff by itself. Its callbacks only hand events to the asyncio loop, so all
bridge logic runs on one thread in one ordered event flow.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any, Callable

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

_LOGGER = logging.getLogger(__name__)

Payload = bytes | str | dict[str, Any] | list[Any] | None


@dataclass(frozen=True, slots=True)
class MqttSettings:
    host: str = "localhost"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    client_id: str | None = None
    keepalive: int = 60
    protocol: str = "3.1.1"
    tls_enabled: bool = False
    tls_ca_file: str | None = None
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    tls_insecure: bool = False
    reconnect_min_delay: float = 1.0
    reconnect_max_delay: float = 60.0
    session_expiry: int = 3600

    @property
    def is_v5(self) -> bool:
        return self.protocol == "5"

    @property
    def persistent_session(self) -> bool:
        return self.session_expiry > 0

    @classmethod
    def from_config(cls, mqtt: dict[str, Any]) -> MqttSettings:
        tls = mqtt.get("tls", {})
        return cls(
            host=mqtt["host"], port=mqtt["port"], username=mqtt.get("username"),
            password=mqtt.get("password"), client_id=mqtt.get("client_id"),
            keepalive=mqtt["keepalive"], protocol=mqtt["protocol"],
            tls_enabled=tls.get("enabled", False), tls_ca_file=tls.get("ca_file"),
            tls_cert_file=tls.get("cert_file"), tls_key_file=tls.get("key_file"),
            tls_insecure=tls.get("insecure", False),
            reconnect_min_delay=mqtt["reconnect_min_delay"],
            reconnect_max_delay=mqtt["reconnect_max_delay"],
            session_expiry=mqtt.get("session_expiry", 0),
        )


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    topic: str
    payload: bytes
    retain: bool
    response_topic: str | None = None
    correlation_data: bytes | None = None


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """Response topic and correlation data that an MQTT 5 request named."""

    topic: str
    correlation_data: bytes | None = None


@dataclass(slots=True)
class MqttStatistics:
    connects: int = 0
    published: int = 0
    received: int = 0
    subscriptions: list[str] = field(default_factory=list)


def _disable_nagle(client: paho.Client, userdata: Any, sock: Any) -> None:
    """Send small messages at once: Nagle's algorithm delays a response by up to 40 ms."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass


def encode_payload(payload: Payload) -> bytes:
    if payload is None:
        return b""
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode("utf-8", errors="replace")
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates cannot be UTF-8; the ASCII form escapes them as valid JSON.
        return json.dumps(payload, separators=(",", ":")).encode("ascii")


class MqttConnection:
    """One broker connection with a will, automatic reconnects and thread-safe hand-off."""

    def __init__(self, settings: MqttSettings, *, will_topic: str, will_payload: str,
                 on_connect: Callable[[], None],
                 on_message: Callable[[IncomingMessage], None],
                 on_disconnect: Callable[[], None] | None = None) -> None:
        self.settings = settings
        self.statistics = MqttStatistics()
        self._on_connect = on_connect
        self._on_message = on_message
        self._on_disconnect = on_disconnect
        self._loop: asyncio.AbstractEventLoop | None = None
        self.connected = False
        self._stopping = False

        protocol = paho.MQTTv5 if settings.is_v5 else paho.MQTTv311
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id or "",
            protocol=protocol,
            # A persistent session needs a fixed client id, which the bridge always sets.
            clean_session=None if settings.is_v5 else not settings.persistent_session,
        )
        self._client.will_set(will_topic, will_payload, qos=1, retain=True)
        if settings.username:
            self._client.username_pw_set(settings.username, settings.password)
        if settings.tls_enabled:
            self._configure_tls()
        self._client.reconnect_delay_set(
            min_delay=max(1, round(settings.reconnect_min_delay)),
            max_delay=max(1, round(settings.reconnect_max_delay)),
        )
        self._client.on_socket_open = _disable_nagle
        self._client.on_connect = self._handle_connect
        self._client.on_disconnect = self._handle_disconnect
        self._client.on_message = self._handle_message

    def _configure_tls(self) -> None:
        settings = self.settings
        self._client.tls_set(
            ca_certs=settings.tls_ca_file,
            certfile=settings.tls_cert_file,
            keyfile=settings.tls_key_file,
            cert_reqs=ssl.CERT_NONE if settings.tls_insecure else ssl.CERT_REQUIRED,
        )
        if settings.tls_insecure:
            _LOGGER.warning("MQTT TLS certificate verification is OFF (mqtt.tls.insecure); "
                            "anyone on the network path can read and change the traffic")
            self._client.tls_insecure_set(True)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Connect in the background; paho keeps retrying with backoff until stop()."""
        self._loop = loop
        _LOGGER.info("Connecting to MQTT broker %s:%s (MQTT %s)",
                     self.settings.host, self.settings.port, self.settings.protocol)
        if self.settings.is_v5:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = self.settings.session_expiry
            self._client.connect_async(self.settings.host, self.settings.port,
                                       keepalive=self.settings.keepalive,
                                       clean_start=not self.settings.persistent_session,
                                       properties=properties)
        else:
            self._client.connect_async(self.settings.host, self.settings.port,
                                       keepalive=self.settings.keepalive)
        self._client.loop_start()

    def stop(self, *, final_messages: list[tuple[str, Payload]] = ()) -> None:
        """Publish the last retained messages, then disconnect cleanly."""
        self._stopping = True
        if self.connected:
            for topic, payload in final_messages:
                info = self._client.publish(topic, encode_payload(payload), qos=1, retain=True)
                try:
                    info.wait_for_publish(timeout=2.0)
                except (RuntimeError, ValueError):
                    pass
        self._client.disconnect()
        self._client.loop_stop()

    def publish(self, topic: str, payload: Payload, *, retain: bool = False, qos: int = 1,
                reply_to: ReplyTarget | None = None) -> None:
        properties = None
        if reply_to is not None and reply_to.correlation_data is not None and self.settings.is_v5:
            properties = Properties(PacketTypes.PUBLISH)
            properties.CorrelationData = reply_to.correlation_data
        self._client.publish(topic, encode_payload(payload), qos=qos, retain=retain,
                             properties=properties)
        self.statistics.published += 1

    def subscribe(self, filters: list[str]) -> None:
        for topic_filter in filters:
            if self.settings.is_v5:
                # Keep the retain flag on live messages too, so a retained command is
                # recognised whenever it arrives; MQTT 3.1.1 clears it for live delivery.
                options = SubscribeOptions(qos=1, retainAsPublished=True)
                self._client.subscribe(topic_filter, options=options)
            else:
                self._client.subscribe(topic_filter, qos=1)
        self.statistics.subscriptions = list(filters)

    def _handle_connect(self, client: paho.Client, userdata: Any, flags: Any,
                        reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            _LOGGER.error("MQTT broker %s:%s rejected the connection: %s",
                          self.settings.host, self.settings.port, reason_code)
            return
        self.connected = True
        self.statistics.connects += 1
        _LOGGER.info("Connected to MQTT broker %s:%s", self.settings.host, self.settings.port)
        self._call_in_loop(self._on_connect)

    def _handle_disconnect(self, client: paho.Client, userdata: Any, flags: Any,
                           reason_code: Any, properties: Any) -> None:
        was_connected = self.connected
        self.connected = False
        if self._stopping:
            _LOGGER.info("Disconnected from MQTT broker")
        elif was_connected:
            _LOGGER.warning("Disconnected from MQTT broker (%s); reconnecting with backoff",
                            reason_code)
        if self._on_disconnect is not None:
            self._call_in_loop(self._on_disconnect)

    def _handle_message(self, client: paho.Client, userdata: Any,
                        message: paho.MQTTMessage) -> None:
        self.statistics.received += 1
        response_topic = None
        correlation_data = None
        properties = getattr(message, "properties", None)
        if properties is not None:
            response_topic = getattr(properties, "ResponseTopic", None)
            correlation_data = getattr(properties, "CorrelationData", None)
        incoming = IncomingMessage(
            topic=message.topic, payload=bytes(message.payload), retain=bool(message.retain),
            response_topic=response_topic, correlation_data=correlation_data,
        )
        self._call_in_loop(self._on_message, incoming)

    def _call_in_loop(self, callback: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:
            # The loop closed between the check and the call during shutdown.
            pass
