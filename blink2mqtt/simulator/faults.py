"""Injected failures: wrong statuses, delays, garbage bodies, rate limits and blocks."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import Any, Literal

from blink2mqtt.simulator.http_types import SimResponse, blocked_response, json_response

FaultKind = Literal[
    "status", "delay", "non_json", "truncated_json", "rate_limit", "blocked", "app_update", "app_update_426"
]
FAULT_KINDS: tuple[FaultKind, ...] = (
    "status",
    "delay",
    "non_json",
    "truncated_json",
    "rate_limit",
    "blocked",
    "app_update",
    "app_update_426",
)
APP_UPDATE_BODY = {"message": "An app update is required"}
DEFAULT_RETRY_AFTER_SECONDS = 60


@dataclass
class Fault:
    path_pattern: re.Pattern[str]
    kind: FaultKind
    remaining: int
    status: int
    body: Any
    delay: float | None
    retry_after: float | None
    content_type: str | None


class FaultInjector:
    """Ordered list of pending faults. Each matching request uses up one count of the first match."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def inject(
        self,
        path_regex: str,
        kind: str,
        count: int = 1,
        status: int = 500,
        body: Any = None,
        delay: float | None = None,
        retry_after: float | None = None,
        content_type: str | None = None,
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"invalid fault kind {kind!r}: expected one of {', '.join(FAULT_KINDS)}")
        try:
            pattern = re.compile(path_regex)
        except re.error as error:
            raise ValueError(f"invalid path_regex {path_regex!r}: {error}") from error
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"invalid count {count!r}: expected an integer of at least 1")
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise ValueError(f"invalid status {status!r}: expected an HTTP status from 100 to 599")
        if kind == "delay" and (delay is None or delay <= 0):
            raise ValueError(f"fault kind 'delay' needs a positive delay in seconds, got {delay!r}")
        with self._lock:
            self._faults.append(Fault(pattern, kind, count, status, body, delay, retry_after, content_type))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict[str, object]]:
        with self._lock:
            return [
                {"path_regex": fault.path_pattern.pattern, "kind": fault.kind, "remaining": fault.remaining}
                for fault in self._faults
            ]

    def take(self, path: str) -> Fault | None:
        """Use up one count of the first fault whose pattern matches ``path`` (re.search)."""
        with self._lock:
            for fault in self._faults:
                if fault.path_pattern.search(path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None


def fault_response(fault: Fault) -> SimResponse | None:
    """Return the response that replaces the normal one, or None for kinds that modify it
    ("delay" responds normally after sleeping, "truncated_json" cuts the normal body)."""
    if fault.kind == "status":
        if fault.body is None:
            response = json_response(fault.status, {"message": f"Simulated fault with HTTP status {fault.status}"})
        elif isinstance(fault.body, (dict, list)):
            response = json_response(fault.status, fault.body)
        else:
            response = SimResponse(fault.status, str(fault.body).encode(), "text/plain; charset=utf-8")
    elif fault.kind == "non_json":
        response = SimResponse(
            200, b"<html><body><h1>Service temporarily unavailable</h1></body></html>", "text/html; charset=utf-8"
        )
    elif fault.kind == "rate_limit":
        retry_after = DEFAULT_RETRY_AFTER_SECONDS if fault.retry_after is None else fault.retry_after
        response = json_response(429, {"message": "Too Many Requests"}, [("Retry-After", str(int(retry_after)))])
    elif fault.kind == "blocked":
        response = blocked_response()
    elif fault.kind == "app_update":
        response = json_response(200, APP_UPDATE_BODY)
    elif fault.kind == "app_update_426":
        response = json_response(426, APP_UPDATE_BODY)
    else:
        return None
    if fault.content_type is not None:
        response.content_type = fault.content_type
    return response


def truncate_response(response: SimResponse) -> SimResponse:
    """Return a 200 application/json response carrying the first half of the normal body."""
    body = response.body or json.dumps({"message": "OK"}).encode()
    return SimResponse(
        200, body[: len(body) // 2], "application/json; charset=utf-8", response.headers, response.server
    )
