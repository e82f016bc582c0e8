"""OAuth sessions, authorization codes, tokens, the sign-in rate limit and auth counters."""

from __future__ import annotations

import itertools
import math
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

TwoFactorStyle = Literal["412", "202"]
TWO_FACTOR_STYLES: tuple[TwoFactorStyle, ...] = ("412", "202")
AUTHORIZATION_CODE_LIFETIME_SECONDS = 600.0
FIRST_BLINK_CLIENT_ID = 9_100_001


@dataclass
class OAuthSession:
    """One browser-style login session, identified by its cookie."""

    id: str
    client_id: str
    hardware_id: str
    code_challenge: str
    redirect_uri: str
    state: str | None
    csrf_token: str | None = None
    password_verified: bool = False
    # True once the credentials and, when required, the 2FA PIN were accepted.
    signed_in: bool = False
    created_monotonic: float = field(default_factory=time.monotonic)


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    hardware_id: str
    code_challenge: str
    expires_monotonic: float


@dataclass
class AccessGrant:
    # OAuth client the tokens were issued to ("ios").
    oauth_client_id: str
    hardware_id: str
    # Blink's numeric client id, sent in the homescreen Client-Id header.
    blink_client_id: int
    expires_monotonic: float


@dataclass
class TokenPair:
    access_token: str
    refresh_token: str
    grant: AccessGrant


class AuthStore:
    """Auth data shared by the OAuth and REST handlers, guarded by its own lock."""

    def __init__(
        self,
        require_2fa: bool,
        two_factor_style: TwoFactorStyle,
        token_lifetime_seconds: float,
        max_signins: int = 10,
        signin_window_seconds: float = 600.0,
    ) -> None:
        validate_two_factor_style(two_factor_style)
        self.lock = threading.RLock()
        self.require_2fa = require_2fa
        self.two_factor_style: TwoFactorStyle = two_factor_style
        self.token_lifetime_seconds = token_lifetime_seconds
        self.max_signins = max_signins
        self.signin_window_seconds = signin_window_seconds
        self.sms_sent = 0
        self.signins = 0
        self.refreshes = 0
        self._sessions: dict[str, OAuthSession] = {}
        self._codes: dict[str, AuthorizationCode] = {}
        self._access_tokens: dict[str, AccessGrant] = {}
        self._refresh_tokens: dict[str, AccessGrant] = {}
        self._signin_times: deque[float] = deque()
        self._blink_client_ids = itertools.count(FIRST_BLINK_CLIENT_ID)
        self.issued_blink_client_ids: set[int] = set()

    # Sessions ------------------------------------------------------------------------

    def start_session(
        self, client_id: str, hardware_id: str, code_challenge: str, redirect_uri: str, state: str | None
    ) -> OAuthSession:
        with self.lock:
            session = OAuthSession(
                id=secrets.token_urlsafe(24),
                client_id=client_id,
                hardware_id=hardware_id,
                code_challenge=code_challenge,
                redirect_uri=redirect_uri,
                state=state,
            )
            self._sessions[session.id] = session
            return session

    def session(self, session_id: str) -> OAuthSession | None:
        with self.lock:
            return self._sessions.get(session_id)

    def csrf_token(self, session: OAuthSession) -> str:
        """Return the session's CSRF token, creating it on first use."""
        with self.lock:
            if session.csrf_token is None:
                session.csrf_token = secrets.token_urlsafe(18)
            return session.csrf_token

    # Sign-in rate limit --------------------------------------------------------------

    def count_signin(self) -> float | None:
        """Count one sign-in POST and return the Retry-After seconds when over the limit.

        Rejected attempts are not added to the window, so a client that waits for
        Retry-After gets through.
        """
        with self.lock:
            self.signins += 1
            now = time.monotonic()
            while self._signin_times and now - self._signin_times[0] >= self.signin_window_seconds:
                self._signin_times.popleft()
            if len(self._signin_times) >= self.max_signins:
                return max(1.0, self.signin_window_seconds - (now - self._signin_times[0]))
            self._signin_times.append(now)
            return None

    def set_login_rate_limit(self, max_signins: int, window_seconds: float) -> None:
        if isinstance(max_signins, bool) or not isinstance(max_signins, int) or max_signins < 1:
            raise ValueError(f"invalid max_signins {max_signins!r}: expected an integer of at least 1")
        if isinstance(window_seconds, bool) or not isinstance(window_seconds, (int, float)) or window_seconds <= 0:
            raise ValueError(f"invalid window_seconds {window_seconds!r}: expected a positive number")
        with self.lock:
            self.max_signins = max_signins
            self.signin_window_seconds = float(window_seconds)
            self._signin_times.clear()

    # Codes and tokens ----------------------------------------------------------------

    def issue_code(self, session: OAuthSession) -> str:
        with self.lock:
            code = secrets.token_urlsafe(32)
            self._codes[code] = AuthorizationCode(
                code=code,
                client_id=session.client_id,
                hardware_id=session.hardware_id,
                code_challenge=session.code_challenge,
                expires_monotonic=time.monotonic() + AUTHORIZATION_CODE_LIFETIME_SECONDS,
            )
            return code

    def redeem_code(self, code: str) -> AuthorizationCode | None:
        """Remove and return a valid code. A code works once, even when the exchange then fails."""
        with self.lock:
            record = self._codes.pop(code, None)
            if record is None or time.monotonic() > record.expires_monotonic:
                return None
            return record

    def issue_tokens(self, oauth_client_id: str, hardware_id: str, blink_client_id: int | None = None) -> TokenPair:
        with self.lock:
            if blink_client_id is None:
                blink_client_id = next(self._blink_client_ids)
            self.issued_blink_client_ids.add(blink_client_id)
            grant = AccessGrant(
                oauth_client_id=oauth_client_id,
                hardware_id=hardware_id,
                blink_client_id=blink_client_id,
                expires_monotonic=time.monotonic() + self.token_lifetime_seconds,
            )
            pair = TokenPair(secrets.token_urlsafe(40), secrets.token_urlsafe(40), grant)
            self._access_tokens[pair.access_token] = grant
            self._refresh_tokens[pair.refresh_token] = grant
            return pair

    def refresh_grant(self, refresh_token: str) -> AccessGrant | None:
        with self.lock:
            return self._refresh_tokens.get(refresh_token)

    def rotate(self, refresh_token: str) -> TokenPair:
        """Invalidate a refresh token and issue a new pair for the same client."""
        with self.lock:
            grant = self._refresh_tokens.pop(refresh_token)
            return self.issue_tokens(grant.oauth_client_id, grant.hardware_id, grant.blink_client_id)

    def authenticate(self, access_token: str) -> AccessGrant | None:
        """Return the grant of a valid, unexpired access token."""
        with self.lock:
            grant = self._access_tokens.get(access_token)
            if grant is None or time.monotonic() >= grant.expires_monotonic:
                return None
            return grant

    def expire_tokens(self) -> None:
        with self.lock:
            self._access_tokens.clear()

    def revoke_refresh_tokens(self) -> None:
        with self.lock:
            self._refresh_tokens.clear()

    def set_two_factor(self, required: bool, style: TwoFactorStyle) -> None:
        if not isinstance(required, bool):
            raise ValueError(f"invalid required {required!r}: expected true or false")
        validate_two_factor_style(style)
        with self.lock:
            self.require_2fa = required
            self.two_factor_style = style

    def counters(self) -> dict[str, int]:
        with self.lock:
            return {"sms_sent": self.sms_sent, "signins": self.signins, "refreshes": self.refreshes}


def validate_two_factor_style(style: str) -> None:
    if style not in TWO_FACTOR_STYLES:
        raise ValueError(f"invalid two_factor_style {style!r}: expected '412' or '202'")


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
