"""Transport-independent request and response records used by all simulator handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs


@dataclass
class SimRequest:
    method: str
    # "oauth", "rest-prod", "rest-<tier>" or "sim" for the control API.
    host: str
    # Path below the host prefix, e.g. /api/v3/accounts/74521/homescreen.
    path: str
    query: dict[str, list[str]]
    # Header names are lower-case.
    headers: dict[str, str]
    body: bytes = b""

    def query_value(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def cookies(self) -> dict[str, str]:
        raw = self.header("cookie")
        if not raw:
            return {}
        jar: SimpleCookie = SimpleCookie()
        jar.load(raw)
        return {name: morsel.value for name, morsel in jar.items()}

    def form(self) -> dict[str, str]:
        """Parse an application/x-www-form-urlencoded body (last value wins)."""
        parsed = parse_qs(self.body.decode("utf-8", errors="replace"), keep_blank_values=True)
        return {name: values[-1] for name, values in parsed.items()}

    def json_body(self) -> Any:
        """Parse the body as JSON and return None for an empty body. Raises ValueError when invalid."""
        if not self.body.strip():
            return None
        return json.loads(self.body)


@dataclass
class SimResponse:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    # Value of the Server header. Cloudflare blocks send "cloudflare".
    server: str = "nginx"


def json_response(status: int, payload: Any, headers: list[tuple[str, str]] | None = None) -> SimResponse:
    return SimResponse(status, json.dumps(payload).encode(), "application/json; charset=utf-8", list(headers or []))


def text_response(status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> SimResponse:
    return SimResponse(status, text.encode(), content_type)


def bytes_response(status: int, body: bytes, content_type: str) -> SimResponse:
    return SimResponse(status, body, content_type)


def blocked_response() -> SimResponse:
    """Return the plain-text 406 that Blink's Cloudflare front sends to blocked clients."""
    response = text_response(406, "Not Acceptable")
    response.server = "cloudflare"
    return response
