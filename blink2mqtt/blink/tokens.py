"""Persistent session state: hardware id, OAuth tokens, tier and account id."""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..files import write_atomically

_LOGGER = logging.getLogger(__name__)

TOKEN_FILE_MODE = 0o600


@dataclass(frozen=True, slots=True)
class SessionState:
    """What a Blink session needs to survive a restart without a new login.

    ``hardware_id`` is generated once and kept for ever: Blink lists each
    hardware id as a separate device in the user's app, and a new one on every
    start would pile up entries and may trigger another two-factor check.
    """

    hardware_id: str = field(default_factory=lambda: str(uuid.uuid4()).upper())
    access_token: str | None = None
    refresh_token: str | None = None
    expires_at: float | None = None
    tier: str | None = None
    account_id: int | None = None
    client_id: int | None = None
    user_id: int | None = None

    @property
    def has_tokens(self) -> bool:
        return bool(self.access_token and self.refresh_token)

    def seconds_until_expiry(self, now: float | None = None) -> float | None:
        if self.expires_at is None:
            return None
        return self.expires_at - (time.time() if now is None else now)

    def without_tokens(self) -> SessionState:
        return replace(self, access_token=None, refresh_token=None, expires_at=None)

    def __repr__(self) -> str:
        # Tokens must never reach a log line through a repr.
        return (
            f"SessionState(hardware_id={self.hardware_id!r}, has_tokens={self.has_tokens}, "
            f"expires_at={self.expires_at!r}, tier={self.tier!r}, account_id={self.account_id!r})"
        )


class TokenStore:
    """JSON file holding a SessionState, written atomically with mode 0600."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> SessionState:
        """Read the stored state, or create and save a new hardware id when there is none."""
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            state = SessionState()
            self.save(state)
            _LOGGER.info("Created token store %s with a new hardware id", self.path)
            return state

        try:
            data = json.loads(raw)
        except json.JSONDecodeError as err:
            raise ValueError(
                f"token store {self.path} is not valid JSON ({err.msg} at line {err.lineno}); "
                "delete it and run 'blink2mqtt login' again"
            ) from err
        if not isinstance(data, dict) or not isinstance(data.get("hardware_id"), str):
            raise ValueError(
                f"token store {self.path} has no hardware_id; "
                "delete it and run 'blink2mqtt login' again"
            )
        return _state_from_dict(data)

    def save(self, state: SessionState) -> None:
        """Replace the file atomically, readable by its owner only."""
        payload = json.dumps(asdict(state), indent=2, sort_keys=True).encode("utf-8")
        write_atomically(self.path, payload, mode=TOKEN_FILE_MODE)


def _state_from_dict(data: dict[str, Any]) -> SessionState:
    def optional_int(key: str) -> int | None:
        value = data.get(key)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    expires_at = data.get("expires_at")
    return SessionState(
        hardware_id=data["hardware_id"],
        access_token=data.get("access_token") or None,
        refresh_token=data.get("refresh_token") or None,
        expires_at=float(expires_at) if isinstance(expires_at, (int, float)) else None,
        tier=data.get("tier") or None,
        account_id=optional_int("account_id"),
        client_id=optional_int("client_id"),
        user_id=optional_int("user_id"),
    )
