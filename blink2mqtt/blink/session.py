"""The authenticated Blink session: login, PIN, token refresh and tier lookup."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import Any, Callable

import httpx

from .errors import LoginRequiredError, TransientError
from .oauth import OAuthLogin, TokenGrant, refresh_token_grant
from .profile import BlinkHosts, ClientProfile
from .responses import decode_rest_response, UnauthorizedResponse
from .tokens import SessionState, TokenStore

_LOGGER = logging.getLogger(__name__)

TIER_INFO_PATH = "/api/v1/users/tier_info"
DEFAULT_REFRESH_MARGIN_SECONDS = 300.0
# After a refresh fails transiently, wait this long (doubling up to the maximum)
# before the next attempt, for every caller that requests a token meanwhile.
DEFAULT_REFRESH_BACKOFF_SECONDS = (60.0, 900.0)


class BlinkSession:
    """Owns the tokens: logs in, refreshes before expiry and persists every change.

    The session never starts a sign-in by itself. When the refresh token stops
    working it raises LoginRequiredError and waits for the user, because every
    sign-in may send an SMS and repeated ones get accounts locked.
    """

    def __init__(self, store: TokenStore, *, hosts: BlinkHosts, profile: ClientProfile,
                 http: httpx.AsyncClient, timeout: httpx.Timeout, verify: bool | str = True,
                 refresh_margin_seconds: float = DEFAULT_REFRESH_MARGIN_SECONDS,
                 refresh_backoff: tuple[float, float] = DEFAULT_REFRESH_BACKOFF_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._hosts = hosts
        self._profile = profile
        self._http = http
        self._timeout = timeout
        self._verify = verify
        self._refresh_margin = refresh_margin_seconds
        self._refresh_lock = asyncio.Lock()
        self._refresh_backoff = refresh_backoff
        self._monotonic = monotonic
        self._refresh_failures = 0
        self._refresh_retry_at = 0.0
        self._pending_login: OAuthLogin | None = None
        # Called with every token value, so log filters can redact them.
        self.secret_listeners: list[Callable[[str], None]] = []
        self.state: SessionState = store.load()

    @property
    def is_logged_in(self) -> bool:
        return self.state.has_tokens and self.state.tier is not None \
            and self.state.account_id is not None

    @property
    def waiting_for_pin(self) -> bool:
        return self._pending_login is not None and self._pending_login.waiting_for_pin

    @property
    def tier_url(self) -> str:
        if self.state.tier is None:
            raise LoginRequiredError("the Blink tier is unknown; run 'blink2mqtt login'")
        return self._hosts.tier_url(self.state.tier)

    @property
    def account_id(self) -> int:
        if self.state.account_id is None:
            raise LoginRequiredError("the Blink account id is unknown; run 'blink2mqtt login'")
        return self.state.account_id

    async def login(self, email: str, password: str) -> None:
        """Sign in with the credentials; raises PinRequiredError and keeps the login pending."""
        await self.cancel_pending_login()
        login = OAuthLogin(hosts=self._hosts, profile=self._profile,
                           hardware_id=self.state.hardware_id,
                           timeout=self._timeout, verify=self._verify)
        _LOGGER.info("Starting Blink sign-in for hardware id %s", self.state.hardware_id)
        try:
            grant = await login.sign_in(email, password)
        except Exception:
            if login.waiting_for_pin:
                self._pending_login = login
                _LOGGER.info("Blink sign-in waits for the two-factor PIN")
            else:
                await login.aclose()
            raise
        await login.aclose()
        await self._complete_login(grant)

    async def submit_pin(self, pin: str) -> None:
        """Finish the pending login with the PIN Blink sent."""
        login = self._pending_login
        if login is None:
            raise LoginRequiredError("no login is waiting for a PIN; start a new login first")
        grant = await login.submit_pin(pin)
        self._pending_login = None
        await login.aclose()
        await self._complete_login(grant)

    async def cancel_pending_login(self) -> None:
        if self._pending_login is not None:
            await self._pending_login.aclose()
            self._pending_login = None

    async def access_token(self) -> str:
        """Return a valid access token, refreshing it first when it expires soon."""
        state = self.state
        if not state.has_tokens:
            raise LoginRequiredError("no Blink tokens are stored; run 'blink2mqtt login'")
        remaining = state.seconds_until_expiry()
        if remaining is None or remaining < self._refresh_margin:
            await self.refresh(failed_access_token=state.access_token)
        assert self.state.access_token is not None
        return self.state.access_token

    async def refresh(self, *, failed_access_token: str | None) -> None:
        """Refresh the tokens once, even when many callers ask at the same time.

        A caller passes the access token that failed or expires; when another
        caller has replaced it meanwhile, no second refresh is sent.
        """
        async with self._refresh_lock:
            state = self.state
            if failed_access_token is not None and state.access_token != failed_access_token:
                return
            if state.refresh_token is None:
                raise LoginRequiredError("no Blink refresh token is stored; run 'blink2mqtt login'")
            wait = self._refresh_retry_at - self._monotonic()
            if wait > 0:
                raise TransientError(f"the last token refresh failed; the next try is in "
                                     f"{wait:.0f} s")

            _LOGGER.info("Refreshing the Blink access token")
            try:
                grant = await refresh_token_grant(
                    self._http, hosts=self._hosts, profile=self._profile,
                    hardware_id=state.hardware_id, refresh_token=state.refresh_token,
                )
            except LoginRequiredError:
                _LOGGER.warning("Blink rejected the refresh token; a new login is needed")
                self._save(state.without_tokens())
                raise
            except TransientError as err:
                self._refresh_failures += 1
                first, maximum = self._refresh_backoff
                delay = min(first * 2 ** (self._refresh_failures - 1), maximum)
                self._refresh_retry_at = self._monotonic() + delay
                _LOGGER.warning("Token refresh failed (%d in a row), next try in %.1f s: %s",
                                self._refresh_failures, delay, err)
                raise
            self._refresh_failures = 0
            self._refresh_retry_at = 0.0
            self._save(_apply_grant(state, grant))

    async def logout_locally(self) -> None:
        """Forget the tokens but keep the hardware id."""
        await self.cancel_pending_login()
        self._save(self.state.without_tokens())

    def remember_client_ids(self, client_id: int | None, user_id: int | None) -> None:
        if (client_id, user_id) == (self.state.client_id, self.state.user_id):
            return
        self._save(replace(self.state, client_id=client_id, user_id=user_id))

    async def _complete_login(self, grant: TokenGrant) -> None:
        self._save(_apply_grant(self.state, grant))
        tier, account_id = await self._fetch_tier_info(grant.access_token)
        self._save(replace(self.state, tier=tier, account_id=account_id))
        _LOGGER.info("Blink login complete: account %s on tier %s", account_id, tier)

    async def _fetch_tier_info(self, access_token: str) -> tuple[str, int]:
        try:
            response = await self._http.get(
                f"{self._hosts.rest_prod_url}{TIER_INFO_PATH}",
                headers={"Authorization": f"Bearer {access_token}",
                         "User-Agent": self._profile.rest_user_agent},
            )
        except httpx.HTTPError as err:
            raise TransientError(f"tier lookup failed: {type(err).__name__}") from err
        try:
            body: Any = decode_rest_response(response, what="the tier lookup")
        except UnauthorizedResponse as err:
            raise LoginRequiredError("Blink rejected the new access token at the tier lookup") from err

        tier = body.get("tier") if isinstance(body, dict) else None
        account_id = body.get("account_id") if isinstance(body, dict) else None
        try:
            account_id = int(account_id) if account_id is not None else None
        except (TypeError, ValueError):
            account_id = None
        if not isinstance(tier, str) or not tier or account_id is None:
            raise TransientError("Blink's tier lookup lacks tier or account_id")
        return tier, account_id

    def add_secret_listener(self, listener: Callable[[str], None]) -> None:
        self.secret_listeners.append(listener)
        for token in (self.state.access_token, self.state.refresh_token):
            if token:
                listener(token)

    def _save(self, state: SessionState) -> None:
        self.state = state
        self._store.save(state)
        for token in (state.access_token, state.refresh_token):
            if token:
                for listener in self.secret_listeners:
                    listener(token)


def _apply_grant(state: SessionState, grant: TokenGrant) -> SessionState:
    return replace(state, access_token=grant.access_token, refresh_token=grant.refresh_token,
                   expires_at=time.time() + grant.expires_in)
