"""The bridge's view of the Blink login, published on ``<base>/bridge/auth``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, Callable

from ..blink import errors as blink_errors

_LOGGER = logging.getLogger(__name__)


class AuthState(StrEnum):
    CONNECTING = "connecting"
    OK = "ok"
    PIN_REQUIRED = "pin_required"
    LOGIN_REQUIRED = "login_required"
    BLOCKED = "blocked"
    RATE_LIMITED = "rate_limited"
    CLIENT_OUTDATED = "client_outdated"
    ERROR = "error"


# States in which polling waits for the user instead of retrying.
WAITING_FOR_USER = frozenset({AuthState.PIN_REQUIRED, AuthState.LOGIN_REQUIRED})


@dataclass(frozen=True, slots=True)
class AuthStatus:
    state: AuthState
    message: str
    retry_at: datetime | None = None

    def as_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"state": self.state.value, "message": self.message}
        if self.retry_at is not None:
            payload["retry_at"] = self.retry_at.isoformat(timespec="seconds")
        return payload


def status_for_error(error: blink_errors.BlinkError, *, retry_in: float | None = None) -> AuthStatus:
    """Map a Blink error that stops polling to the auth state users see."""
    retry_at = (datetime.now(timezone.utc) + timedelta(seconds=retry_in)
                if retry_in is not None else None)
    if isinstance(error, blink_errors.PinRequiredError):
        return AuthStatus(AuthState.PIN_REQUIRED,
                          "Blink sent a two-factor PIN: publish it to <base>/bridge/request/pin "
                          "or type it into the 'Two-factor PIN' entity")
    if isinstance(error, blink_errors.PinRejectedError):
        return AuthStatus(AuthState.PIN_REQUIRED,
                          "Blink rejected that PIN; send the latest code again")
    if isinstance(error, blink_errors.CredentialsRejectedError):
        return AuthStatus(AuthState.LOGIN_REQUIRED,
                          "Blink rejected the email or password; fix blink.email/blink.password "
                          "and send <base>/bridge/request/login")
    if isinstance(error, blink_errors.AuthenticationError):
        return AuthStatus(AuthState.LOGIN_REQUIRED,
                          "A new Blink login is needed: run 'blink2mqtt login' or send "
                          "<base>/bridge/request/login")
    if isinstance(error, blink_errors.RateLimitedError):
        return AuthStatus(AuthState.RATE_LIMITED,
                          "Blink rate-limited the account; the bridge waits before polling again",
                          retry_at)
    if isinstance(error, blink_errors.BlockedError):
        return AuthStatus(AuthState.BLOCKED,
                          "Blink's firewall blocked the requests (HTTP 406); the bridge backs off",
                          retry_at)
    if isinstance(error, blink_errors.ClientOutdatedError):
        return AuthStatus(AuthState.CLIENT_OUTDATED,
                          "Blink requires an app update for this client; update blink2mqtt or "
                          "override blink.client_profile", retry_at)
    return AuthStatus(AuthState.ERROR, str(error), retry_at)


class AuthTracker:
    """Current AuthStatus, with a callback that runs when it changes."""

    def __init__(self, on_change: Callable[[AuthStatus], None]) -> None:
        self._on_change = on_change
        self.status = AuthStatus(AuthState.CONNECTING, "Starting the Blink session")

    def set(self, status: AuthStatus) -> None:
        if status == self.status:
            return
        if status.state is not self.status.state:
            _LOGGER.info("Blink auth state: %s (%s)", status.state.value, status.message)
        self.status = status
        self._on_change(status)

    @property
    def waiting_for_user(self) -> bool:
        return self.status.state in WAITING_FOR_USER
