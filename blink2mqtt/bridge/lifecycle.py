"""Command lifecycle messages: accepted, pending, then ok or error.

Each stage goes to ``<base>/<kind>/<id>/response`` and, for MQTT 5 requests
that named one, to the request's response topic with its correlation data.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from .publisher import MessageSink
from .commands import CommandRequest, Reason, parse_device_id
from .topics import DeviceKind, Topics

ACCEPTED = "accepted"
PENDING = "pending"
OK = "ok"
ERROR = "error"


class CommandLifecycle:
    """Publishes the stages of one command and measures its duration."""

    def __init__(self, sink: MessageSink, topics: Topics, request: CommandRequest) -> None:
        self._sink = sink
        self._topics = topics
        self.request = request
        self._started = time.monotonic()

    def accepted(self, *, queued: bool, **details: Any) -> None:
        self._publish(ACCEPTED, queued=queued, **details)

    def pending(self, blink_command_id: int | None) -> None:
        self._publish(PENDING, blink_command_id=blink_command_id)

    def ok(self, **details: Any) -> None:
        self._publish(OK, **details)

    def error(self, reason: Reason, message: str, **details: Any) -> None:
        self._publish(ERROR, reason=reason.value, message=message, **details)

    def _publish(self, status: str, **details: Any) -> None:
        request = self.request
        payload: dict[str, Any] = {
            "status": status,
            "command": request.name.value,
            "kind": request.kind.value,
            "id": request.device_id,
        }
        if request.transaction is not None:
            payload["transaction"] = request.transaction
        payload.update({key: value for key, value in details.items() if value is not None})
        if status in (OK, ERROR):
            payload["duration_ms"] = round((time.monotonic() - self._started) * 1000, 1)
        payload["time"] = datetime.now(timezone.utc).isoformat(timespec="milliseconds")

        self._sink.publish(self._topics.response(request.kind, request.device_id), payload)
        if request.reply_to is not None:
            self._sink.publish(request.reply_to.topic, payload, reply_to=request.reply_to)


def rejection_payload(kind: DeviceKind | None, device_id: str, reason: Reason, message: str,
                      transaction: Any, command: str | None) -> dict[str, Any]:
    """Error payload for a message that never became a CommandRequest."""
    # Ids that are Blink ids are numbers, as in every other payload; others stay text.
    numeric_id = parse_device_id(device_id)
    shown_id: int | str = numeric_id if numeric_id is not None else device_id
    payload: dict[str, Any] = {"status": ERROR, "command": command,
                               "kind": kind.value if kind else None, "id": shown_id,
                               "reason": reason.value, "message": message}
    if transaction is not None:
        payload["transaction"] = transaction
    payload["time"] = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    return payload
