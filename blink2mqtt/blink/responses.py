"""Turn Blink's HTTP responses into JSON values or typed errors.

Blink signals errors in several ways: the HTTP status, a JSON ``code`` in a
200 body, a plain-text body from its firewall, or a body that is only the
"An app update is required" message. Every decision about what counts as an
error lives here so that endpoint methods stay one call each.
"""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any

import httpx

from .errors import (
    BlinkApiError,
    BlockedError,
    BusyError,
    ClientOutdatedError,
    NotFoundError,
    RateLimitedError,
    TransientError,
)

APP_UPDATE_MESSAGE = "An app update is required"
CODE_UNAUTHORIZED = 101
CODE_BUSY = 307
CODE_NO_CAMERAS_ENABLED = 304
CODE_CAMERA_NOT_FOUND = 500

# JSON ``code`` values that mean failure even when the HTTP status is 200.
# Success codes (103, 200, 241, 802, 803, 902, ...) are not listed and pass.
ERROR_CODES_IN_OK_BODY = frozenset({
    105, 213, CODE_NO_CAMERAS_ENABLED, CODE_BUSY,
    CODE_CAMERA_NOT_FOUND, 706, 1630, 2805,
})

DEFAULT_RETRY_AFTER_SECONDS = 60.0


class UnauthorizedResponse(Exception):
    """HTTP 401 on a REST call; the client refreshes once and retries before giving up."""


def parse_retry_after(value: str | None, *, now: float | None = None) -> float:
    """Seconds to wait from a Retry-After header (seconds or HTTP date); 60 when absent or unreadable."""
    if not value:
        return DEFAULT_RETRY_AFTER_SECONDS
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER_SECONDS
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def raise_for_transport_status(response: httpx.Response, *, what: str) -> None:
    """Raise for the statuses that mean the same on every Blink host."""
    status = response.status_code
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise RateLimitedError(
            f"Blink rate-limited {what} (HTTP 429); retrying after {retry_after:.0f} s",
            retry_after=retry_after,
        )
    if status == 406:
        raise BlockedError(
            f"Blink's firewall blocked {what} (HTTP 406 {_short_text(response)!r}); "
            "check the client profile and wait before trying again"
        )
    if status == 426 or _is_app_update_body(response):
        raise ClientOutdatedError(
            f"Blink returned '{APP_UPDATE_MESSAGE}' for {what}; "
            "update blink2mqtt or override blink.client_profile in the config"
        )
    if status >= 500:
        raise TransientError(f"Blink failed {what} with HTTP {status}")


def decode_rest_response(response: httpx.Response, *, what: str) -> Any:
    """Return the JSON body of a REST response, or raise the matching BlinkError."""
    raise_for_transport_status(response, what=what)
    if response.status_code == 401:
        raise UnauthorizedResponse(what)

    body = _decode_json(response, what=what)
    message, code = _message_and_code(body)

    if code == CODE_UNAUTHORIZED:
        raise UnauthorizedResponse(what)
    if response.status_code == 404 or code == CODE_CAMERA_NOT_FOUND:
        raise NotFoundError(
            f"Blink does not know {what}: {message or 'not found'}",
            code=code, http_status=response.status_code,
        )
    if code == CODE_BUSY:
        raise BusyError(
            f"Blink is busy with another command on this network ({what}): {message}",
            code=code, http_status=response.status_code,
        )
    if response.status_code >= 400 or (code in ERROR_CODES_IN_OK_BODY):
        raise BlinkApiError(
            message or f"Blink rejected {what} with HTTP {response.status_code}",
            code=code, http_status=response.status_code,
        )
    return body


def check_download_response(response: httpx.Response, *, what: str) -> bytes:
    """Return the body of a media download, or raise the matching BlinkError."""
    raise_for_transport_status(response, what=what)
    if response.status_code == 401:
        raise UnauthorizedResponse(what)
    if response.status_code == 404:
        raise NotFoundError(f"Blink has no media at {what}", http_status=404)
    if response.status_code >= 400:
        raise BlinkApiError(
            f"Blink rejected the download of {what} with HTTP {response.status_code}",
            http_status=response.status_code,
        )
    return response.content


def _decode_json(response: httpx.Response, *, what: str) -> Any:
    try:
        return json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        content_type = response.headers.get("Content-Type", "unknown")
        raise TransientError(
            f"Blink sent a body that is not valid JSON for {what} "
            f"(HTTP {response.status_code}, {content_type}, {len(response.content)} bytes)"
        ) from err


def _message_and_code(body: Any) -> tuple[str, int | None]:
    if not isinstance(body, dict):
        return "", None
    message = body.get("message")
    code = body.get("code")
    try:
        numeric_code = int(code) if code is not None else None
    except (TypeError, ValueError):
        numeric_code = None
    return (message if isinstance(message, str) else ""), numeric_code


def _is_app_update_body(response: httpx.Response) -> bool:
    if len(response.content) > 200:
        return False
    try:
        body = json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text.strip() == APP_UPDATE_MESSAGE
    return isinstance(body, dict) and set(body) <= {"message", "code"} and \
        body.get("message") == APP_UPDATE_MESSAGE


def _short_text(response: httpx.Response) -> str:
    try:
        return response.text.strip()[:80]
    except UnicodeDecodeError:
        return "<binary body>"
