"""Retained-state publishing: skip payloads that did not change, replay all on reconnect."""

from __future__ import annotations

import logging
from typing import Protocol

from .mqtt import Payload, ReplyTarget, encode_payload

_LOGGER = logging.getLogger(__name__)


class MessageSink(Protocol):
    def publish(self, topic: str, payload: Payload, *, retain: bool = False, qos: int = 1,
                reply_to: ReplyTarget | None = None) -> None: ...


class RetainedPublisher:
    """Keeps the last retained payload of each topic.

    ``publish`` sends only what changed, which keeps a quiet poll silent on
    the broker. ``republish_all`` replays everything after a reconnect or
    Home Assistant's birth message, in case the broker lost its retained store.
    """

    def __init__(self, sink: MessageSink) -> None:
        self._sink = sink
        self._retained: dict[str, bytes] = {}

    def publish(self, topic: str, payload: Payload, *, force: bool = False) -> bool:
        encoded = encode_payload(payload)
        if not force and self._retained.get(topic) == encoded:
            return False
        self._retained[topic] = encoded
        self._sink.publish(topic, encoded, retain=True)
        return True

    def clear(self, topic: str) -> None:
        """Delete a retained message from the broker with an empty retained payload."""
        self._retained.pop(topic, None)
        self._sink.publish(topic, b"", retain=True)

    def republish_all(self, *, first: tuple[str, ...] = ()) -> int:
        """Send every retained payload again; topics in ``first`` go out before the rest."""
        ordered = [topic for topic in first if topic in self._retained]
        ordered += [topic for topic in self._retained if topic not in first]
        for topic in ordered:
            self._sink.publish(topic, self._retained[topic], retain=True)
        _LOGGER.debug("Republished %d retained topics", len(ordered))
        return len(ordered)

    def topics_with_prefix(self, prefix: str) -> list[str]:
        return [topic for topic in self._retained if topic.startswith(prefix)]

    def current(self, topic: str) -> bytes | None:
        return self._retained.get(topic)
