"""Split requests by host prefix, apply injected faults, record the request log.

One port serves every simulated host: ``/hosts/oauth/...``, ``/hosts/rest-prod/...``,
``/hosts/rest-<tier>/...``, plus the control API under ``/_sim/``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from blink2mqtt.simulator.context import CloudContext
from blink2mqtt.simulator.faults import FaultInjector, fault_response, truncate_response
from blink2mqtt.simulator.http_types import SimRequest, SimResponse, json_response
from blink2mqtt.simulator.oauth import handle_oauth_request
from blink2mqtt.simulator.rest import handle_rest_request

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "/_sim/"
_HOST_PATH = re.compile(r"^/hosts/(?P<host>[A-Za-z0-9-]+)(?P<path>/.*)?$")
# The request log drops these query parameters because they carry credentials.
SECRET_QUERY_PARAMETERS = frozenset(
    {
        "code",
        "refresh_token",
        "password",
        "token",
        "code_verifier",
        "access_token",
        "2fa_code",
        "csrf-token",
        "client_secret",
    }
)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    # "oauth", "rest-prod", "rest-<tier>", or "unknown" for paths outside /hosts/.
    host: str
    # Path below the host prefix, without the query string.
    path: str
    # Last value of each query parameter, without the secret ones.
    query: dict[str, str]
    status: int
    # Wall-clock time (time.time()) when the response was ready.
    time: float

    def as_json(self) -> dict[str, object]:
        return {
            "method": self.method,
            "host": self.host,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "time": self.time,
        }


class RequestLog:
    """Thread-safe list of the Blink-host requests served, without bodies or headers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[RecordedRequest] = []

    def append(self, entry: RecordedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def count(self, method: str | None = None, path_regex: str | None = None, host: str | None = None) -> int:
        pattern = re.compile(path_regex) if path_regex is not None else None
        with self._lock:
            return sum(
                1
                for entry in self._entries
                if (method is None or entry.method == method.upper())
                and (host is None or entry.host == host)
                and (pattern is None or pattern.search(entry.path))
            )


def _public_query(query: dict[str, list[str]]) -> dict[str, str]:
    return {name: values[-1] for name, values in query.items() if name not in SECRET_QUERY_PARAMETERS and values}


class Dispatcher:
    def __init__(
        self,
        context: CloudContext,
        faults: FaultInjector,
        log: RequestLog,
        handle_control: Callable[[SimRequest], SimResponse],
        stop_event: threading.Event,
    ) -> None:
        self._context = context
        self._faults = faults
        self._log = log
        self._handle_control = handle_control
        self._stop_event = stop_event

    def dispatch(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> SimResponse:
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query, keep_blank_values=True)
        if parts.path.startswith(CONTROL_PREFIX):
            control_request = SimRequest(method, "sim", parts.path.removeprefix(CONTROL_PREFIX), query, headers, body)
            return self._handle_control(control_request)

        match = _HOST_PATH.match(parts.path)
        if match is None:
            response = json_response(
                404, {"message": f"Not found: {parts.path}. Blink hosts live under /hosts/<host>/"}
            )
            self._record(method, "unknown", parts.path, query, response.status)
            return response

        host = match["host"]
        path = match["path"] or "/"
        request = SimRequest(method, host, path, query, headers, body)
        response = self._respond(request)
        self._record(method, host, path, query, response.status)
        return response

    def _respond(self, request: SimRequest) -> SimResponse:
        fault = self._faults.take(request.path)
        if fault is not None:
            replacement = fault_response(fault)
            if replacement is not None:
                return replacement
            if fault.kind == "delay" and fault.delay is not None:
                # Wakes early when the server stops, so stop() is not held up.
                self._stop_event.wait(fault.delay)
        try:
            response = self._route(request)
        except Exception as error:  # noqa: BLE001 - a simulator bug must surface as a 500, not a dropped connection
            logger.exception("simulator handler failed for %s %s/%s", request.method, request.host, request.path)
            response = json_response(500, {"message": f"Internal simulator error: {type(error).__name__}: {error}"})
        if fault is not None and fault.kind == "truncated_json":
            return truncate_response(response)
        return response

    def _route(self, request: SimRequest) -> SimResponse:
        if request.host == "oauth":
            return handle_oauth_request(self._context, request)
        if request.host.startswith("rest-"):
            return handle_rest_request(self._context, request)
        return json_response(
            404, {"message": f"Unknown host {request.host!r}: expected oauth, rest-prod or rest-<tier>"}
        )

    def _record(self, method: str, host: str, path: str, query: dict[str, list[str]], status: int) -> None:
        if status >= 400:
            # Error responses are expected in tests, so they are logged at debug level only.
            logger.debug("%s %s%s returned HTTP %d", method, host, path, status)
        self._log.append(RecordedRequest(method, host, path, _public_query(query), status, time.time()))
