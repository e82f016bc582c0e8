"""Blink's OAuth 2.0 authorization-code login with PKCE, and token refresh.

The sign-in is a web flow bound to one cookie jar:

1. GET  /oauth/v2/authorize with the PKCE challenge (sets the session cookies)
2. GET  /oauth/v2/signin, which embeds a csrf token
3. POST /oauth/v2/signin with the credentials: a redirect means signed in,
   HTTP 412 or a 202 with ``tsv_*`` fields means Blink sent a two-factor PIN
4. POST /oauth/v2/2fa/verify with the PIN: 201 ``auth-completed``
5. GET  /oauth/v2/authorize again: the 3xx Location carries the code
6. POST /oauth/token to exchange the code for tokens

Each credentials POST that needs two-factor makes Blink send another SMS, so a
login waiting for its PIN keeps its cookies, verifier and csrf token and is
resumed with :meth:`OAuthLogin.submit_pin`, never restarted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from .errors import (
    BlinkApiError,
    CredentialsRejectedError,
    LoginRequiredError,
    PinRejectedError,
    PinRequiredError,
    TransientError,
)
from .profile import BlinkHosts, ClientProfile
from .responses import raise_for_transport_status

_LOGGER = logging.getLogger(__name__)

AUTHORIZE_PATH = "/oauth/v2/authorize"
SIGNIN_PATH = "/oauth/v2/signin"
VERIFY_PIN_PATH = "/oauth/v2/2fa/verify"
TOKEN_PATH = "/oauth/token"

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
TWO_FACTOR_FIELDS = frozenset({"tsv_state", "tsv_methods", "next_time_in_secs"})
DEFAULT_EXPIRES_IN_SECONDS = 3600

_CSRF_SCRIPT = re.compile(
    r'<script[^>]*id=["\']oauth-args["\'][^>]*>(?P<json>.*?)</script>', re.DOTALL | re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """Tokens returned by Blink's token endpoint."""

    access_token: str
    refresh_token: str
    expires_in: float

    def __repr__(self) -> str:
        return f"TokenGrant(expires_in={self.expires_in!r})"


@dataclass(frozen=True, slots=True)
class PkcePair:
    verifier: str
    challenge: str

    @classmethod
    def generate(cls) -> PkcePair:
        verifier = _base64url(secrets.token_bytes(32))
        challenge = _base64url(hashlib.sha256(verifier.encode("ascii")).digest())
        return cls(verifier=verifier, challenge=challenge)


class OAuthLogin:
    """One sign-in attempt with its own cookie jar, kept alive while it waits for a PIN."""

    def __init__(self, *, hosts: BlinkHosts, profile: ClientProfile, hardware_id: str,
                 timeout: httpx.Timeout, verify: bool | str = True) -> None:
        self._hosts = hosts
        self._profile = profile
        self._hardware_id = hardware_id
        self._pkce = PkcePair.generate()
        self._csrf_token: str | None = None
        self._http = httpx.AsyncClient(timeout=timeout, verify=verify, follow_redirects=False)
        self.waiting_for_pin = False

    async def aclose(self) -> None:
        await self._http.aclose()

    async def sign_in(self, email: str, password: str) -> TokenGrant:
        """Run the flow up to the tokens; raise PinRequiredError when Blink sent a PIN."""
        await self._open_authorize_session()
        self._csrf_token = await self._fetch_csrf_token()
        await self._post_credentials(email, password)
        return await self._finish()

    async def submit_pin(self, pin: str) -> TokenGrant:
        """Complete a login that waits for its PIN, in the same cookie session."""
        if not self.waiting_for_pin or self._csrf_token is None:
            raise LoginRequiredError("no login is waiting for a PIN; start a new login")

        response = await self._request(
            "POST", VERIFY_PIN_PATH,
            headers=self._form_headers(),
            data={"2fa_code": pin, "csrf-token": self._csrf_token, "remember_me": "false"},
            what="the two-factor PIN check",
        )
        body = _json_or_none(response)
        if response.status_code != 201 or not isinstance(body, dict) \
                or body.get("status") != "auth-completed":
            raise PinRejectedError(
                f"Blink rejected the PIN (HTTP {response.status_code}); "
                "check the latest code Blink sent and submit it again"
            )
        self.waiting_for_pin = False
        return await self._finish()

    async def _open_authorize_session(self) -> None:
        params = {
            "app_brand": self._profile.app_brand,
            "app_version": self._profile.app_version,
            "client_id": self._profile.client_id,
            "code_challenge": self._pkce.challenge,
            "code_challenge_method": "S256",
            "device_brand": self._profile.device_brand,
            "device_model": self._profile.device_model,
            "device_os_version": self._profile.device_os_version,
            "hardware_id": self._hardware_id,
            "redirect_uri": self._profile.redirect_uri,
            "response_type": "code",
            "scope": self._profile.scope,
        }
        response = await self._request(
            "GET", AUTHORIZE_PATH, params=params, headers=self._page_headers(),
            follow_redirects=True, what="the authorize request",
        )
        if response.status_code != 200:
            raise BlinkApiError(
                f"Blink rejected the authorize request with HTTP {response.status_code}",
                http_status=response.status_code,
            )

    async def _fetch_csrf_token(self) -> str:
        response = await self._request(
            "GET", SIGNIN_PATH, headers=self._page_headers(), what="the sign-in page",
        )
        if response.status_code != 200:
            raise BlinkApiError(
                f"Blink's sign-in page returned HTTP {response.status_code}",
                http_status=response.status_code,
            )
        match = _CSRF_SCRIPT.search(response.text)
        try:
            token = json.loads(match.group("json"))["csrf-token"] if match else None
        except (json.JSONDecodeError, KeyError, TypeError):
            token = None
        if not isinstance(token, str) or not token:
            raise TransientError("Blink's sign-in page has no csrf token; the page layout may have changed")
        return token

    async def _post_credentials(self, email: str, password: str) -> None:
        """Send the credentials; return when signed in, raise PinRequiredError for two-factor."""
        assert self._csrf_token is not None
        response = await self._request(
            "POST", SIGNIN_PATH,
            headers=self._form_headers(),
            data={"username": email, "password": password, "csrf-token": self._csrf_token},
            what="the sign-in",
        )
        status = response.status_code
        if status in REDIRECT_STATUSES:
            return

        body = _json_or_none(response)
        if status == 412 or (status == 202 and isinstance(body, dict)
                             and TWO_FACTOR_FIELDS & set(body)):
            self.waiting_for_pin = True
            details = body if isinstance(body, dict) else {}
            methods = details.get("tsv_methods")
            resend = details.get("next_time_in_secs")
            raise PinRequiredError(
                "Blink sent a two-factor PIN; submit it to finish the login",
                resend_after_seconds=resend if isinstance(resend, int) else None,
                methods=tuple(str(m) for m in methods) if isinstance(methods, list) else (),
            )
        if status == 401:
            raise CredentialsRejectedError(
                "Blink rejected the email address or password; check blink.email and blink.password"
            )
        raise BlinkApiError(
            f"Blink's sign-in returned HTTP {status}, which is neither success nor a PIN request",
            http_status=status,
        )

    async def _finish(self) -> TokenGrant:
        code = await self._fetch_authorization_code()
        response = await self._request(
            "POST", TOKEN_PATH,
            headers=self._token_headers(),
            data={
                "app_brand": self._profile.app_brand,
                "client_id": self._profile.client_id,
                "code": code,
                "code_verifier": self._pkce.verifier,
                "grant_type": "authorization_code",
                "hardware_id": self._hardware_id,
                "redirect_uri": self._profile.redirect_uri,
                "scope": self._profile.scope,
            },
            what="the token exchange",
        )
        if response.status_code != 200:
            raise BlinkApiError(
                f"Blink rejected the authorization code with HTTP {response.status_code}",
                http_status=response.status_code,
            )
        return parse_token_grant(response)

    async def _fetch_authorization_code(self) -> str:
        headers = {**self._page_headers(), "Accept": "*/*",
                   "Referer": f"{self._hosts.oauth_url}{SIGNIN_PATH}"}
        response = await self._request(
            "GET", AUTHORIZE_PATH, headers=headers, what="the authorization code",
        )
        # The Location points at the app's custom scheme; it is read, never followed.
        location = response.headers.get("Location", "")
        codes = parse_qs(urlsplit(location).query).get("code")
        if response.status_code not in REDIRECT_STATUSES or not codes:
            raise BlinkApiError(
                f"Blink did not issue an authorization code (HTTP {response.status_code})",
                http_status=response.status_code,
            )
        return codes[0]

    async def _request(self, method: str, path: str, *, what: str,
                       follow_redirects: bool = False, **kwargs: Any) -> httpx.Response:
        url = f"{self._hosts.oauth_url}{path}"
        try:
            response = await self._http.request(
                method, url, follow_redirects=follow_redirects, **kwargs
            )
        except httpx.TimeoutException as err:
            raise TransientError(f"Blink did not respond to {what} in time") from err
        except httpx.HTTPError as err:
            raise TransientError(f"{what} failed: {type(err).__name__}: {err}") from err
        _LOGGER.debug("OAuth %s %s -> HTTP %s", method, path, response.status_code)
        raise_for_transport_status(response, what=what)
        return response

    def _page_headers(self) -> dict[str, str]:
        return {
            "User-Agent": self._profile.web_user_agent,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "en-US,en;q=0.9",
        }

    def _form_headers(self) -> dict[str, str]:
        return {
            "User-Agent": self._profile.web_user_agent,
            "Accept": "*/*",
            "Origin": self._hosts.oauth_url,
            "Referer": f"{self._hosts.oauth_url}{SIGNIN_PATH}",
        }

    def _token_headers(self) -> dict[str, str]:
        return {"User-Agent": self._profile.token_user_agent, "Accept": "*/*"}


async def refresh_token_grant(http: httpx.AsyncClient, *, hosts: BlinkHosts,
                              profile: ClientProfile, hardware_id: str,
                              refresh_token: str) -> TokenGrant:
    """Exchange a refresh token for new tokens; LoginRequiredError when Blink rejects it."""
    try:
        response = await http.post(
            f"{hosts.oauth_url}{TOKEN_PATH}",
            headers={"User-Agent": profile.token_user_agent, "Accept": "*/*"},
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": profile.client_id,
                "scope": profile.scope,
                "hardware_id": hardware_id,
            },
        )
    except httpx.TimeoutException as err:
        raise TransientError("Blink did not respond to the token refresh in time") from err
    except httpx.HTTPError as err:
        raise TransientError(f"token refresh failed: {type(err).__name__}: {err}") from err

    raise_for_transport_status(response, what="the token refresh")
    if response.status_code in (400, 401, 403):
        raise LoginRequiredError(
            f"Blink rejected the refresh token (HTTP {response.status_code}); "
            "run 'blink2mqtt login' or send the PIN flow again"
        )
    if response.status_code != 200:
        raise TransientError(f"Blink failed the token refresh with HTTP {response.status_code}")
    return parse_token_grant(response)


def parse_token_grant(response: httpx.Response) -> TokenGrant:
    body = _json_or_none(response)
    if not isinstance(body, dict):
        raise TransientError("Blink's token response is not a JSON object")
    # Some documented variants call the access token "token".
    access_token = body.get("access_token") or body.get("token")
    refresh_token = body.get("refresh_token")
    if not isinstance(access_token, str) or not isinstance(refresh_token, str):
        raise TransientError("Blink's token response lacks access_token or refresh_token")
    expires_in = body.get("expires_in")
    if not isinstance(expires_in, (int, float)) or expires_in <= 0:
        expires_in = DEFAULT_EXPIRES_IN_SECONDS
    return TokenGrant(access_token=access_token, refresh_token=refresh_token,
                      expires_in=float(expires_in))


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _base64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
