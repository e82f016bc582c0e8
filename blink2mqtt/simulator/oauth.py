"""Handlers of the OAuth host: the cookie-bound PKCE web login with CSRF and 2FA, and /oauth/token.

Flow:
1. GET /oauth/v2/authorize with PKCE parameters starts a session cookie.
2. GET /oauth/v2/signin returns the CSRF token.
3. POST /oauth/v2/signin checks the credentials and responds with 412 or 202 when a 2FA PIN is needed.
4. POST /oauth/v2/2fa/verify checks the PIN.
5. GET /oauth/v2/authorize without parameters redirects to the app's custom-scheme URI with a one-time code.
6. POST /oauth/token exchanges the code for tokens, or refreshes them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from urllib.parse import urlencode

from blink2mqtt.simulator.auth_store import OAuthSession, retry_after_header
from blink2mqtt.simulator.context import CloudContext
from blink2mqtt.simulator.http_types import SimRequest, SimResponse, blocked_response, json_response, text_response
from blink2mqtt.simulator.routing import RouteParams, Router

OAUTH_CLIENT_ID = "ios"
REDIRECT_URI = "immedia-blink://applinks.blink.com/signin/callback"
SESSION_COOKIE = "blink_oauth_session"
# Blink's Cloudflare front rejects these hardware_id literals (case-sensitive) with 406.
BLOCKED_HARDWARE_IDS = frozenset({"Blinkpy", "Home Assistant"})

OAuthHandler = Callable[[CloudContext, SimRequest, RouteParams], SimResponse]


def _oauth_error(status: int, error: str, description: str, cause: str | None = None) -> SimResponse:
    payload: dict[str, str] = {"error": error}
    if cause is not None:
        payload["error_cause"] = cause
    payload["error_description"] = description
    return json_response(status, payload)


def _empty_cookies() -> SimResponse:
    return _oauth_error(400, "bad_request", "Empty Cookies.", cause="empty_cookies")


def _html(body: str, headers: list[tuple[str, str]] | None = None) -> SimResponse:
    page = f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Blink</title></head><body>{body}</body></html>'
    response = text_response(200, page, "text/html; charset=utf-8")
    response.headers.extend(headers or [])
    return response


def pkce_challenge(code_verifier: str) -> str:
    """Return the S256 code challenge: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(code_verifier.encode("ascii", errors="replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _session_from_cookie(context: CloudContext, request: SimRequest) -> OAuthSession | SimResponse:
    session_id = request.cookies().get(SESSION_COOKIE)
    if not session_id:
        return _empty_cookies()
    session = context.auth.session(session_id)
    if session is None:
        return _oauth_error(400, "bad_request", "Invalid or expired session.", cause="invalid_session")
    return session


def _csrf_matches(session: OAuthSession, submitted: str | None) -> bool:
    return (
        session.csrf_token is not None and submitted is not None and hmac.compare_digest(session.csrf_token, submitted)
    )


def _invalid_csrf() -> SimResponse:
    return _oauth_error(403, "forbidden", "Invalid CSRF token.", cause="invalid_csrf_token")


def authorize(context: CloudContext, request: SimRequest, params: RouteParams) -> SimResponse:
    """GET /oauth/v2/authorize: start a session (with PKCE parameters) or issue the code (without)."""
    if request.query_value("hardware_id") in BLOCKED_HARDWARE_IDS:
        return blocked_response()
    if request.query:
        return _start_session(context, request)
    session = _session_from_cookie(context, request)
    if isinstance(session, SimResponse):
        return session
    if not session.signed_in:
        return _oauth_error(
            401, "unauthorized", "Sign in before requesting an authorization code.", cause="not_signed_in"
        )
    code = context.auth.issue_code(session)
    location_query = {"code": code}
    if session.state is not None:
        location_query["state"] = session.state
    response = SimResponse(302, b"", "text/html; charset=utf-8")
    response.headers.append(("Location", f"{session.redirect_uri}?{urlencode(location_query)}"))
    return response


def _start_session(context: CloudContext, request: SimRequest) -> SimResponse:
    required = ("client_id", "code_challenge", "code_challenge_method", "hardware_id", "response_type")
    missing = [name for name in required if not request.query_value(name)]
    if missing:
        return _oauth_error(400, "invalid_request", f"Missing parameter: {', '.join(missing)}.")
    client_id = request.query_value("client_id") or ""
    if client_id != OAUTH_CLIENT_ID:
        return _oauth_error(400, "invalid_client", f"Invalid client_id {client_id!r}.")
    if request.query_value("code_challenge_method") != "S256":
        return _oauth_error(400, "invalid_request", "code_challenge_method must be S256.")
    if request.query_value("response_type") != "code":
        return _oauth_error(400, "unsupported_response_type", "response_type must be code.")
    redirect_uri = request.query_value("redirect_uri") or REDIRECT_URI
    if redirect_uri != REDIRECT_URI:
        return _oauth_error(400, "invalid_request", f"Unregistered redirect_uri {redirect_uri!r}.")
    session = context.auth.start_session(
        client_id=client_id,
        hardware_id=request.query_value("hardware_id") or "",
        code_challenge=request.query_value("code_challenge") or "",
        redirect_uri=redirect_uri,
        state=request.query_value("state"),
    )
    cookie = f"{SESSION_COOKIE}={session.id}; Path=/; HttpOnly; SameSite=Lax"
    return _html('<p>Loading Blink sign-in...</p><a href="/oauth/v2/signin">Continue</a>', [("Set-Cookie", cookie)])


def signin_page(context: CloudContext, request: SimRequest, params: RouteParams) -> SimResponse:
    """GET /oauth/v2/signin: the sign-in form with the CSRF token in a JSON script tag."""
    session = _session_from_cookie(context, request)
    if isinstance(session, SimResponse):
        return session
    arguments = json.dumps({"csrf-token": context.auth.csrf_token(session)})
    return _html(
        '<form method="post" action="/oauth/v2/signin">'
        '<input name="username" type="email"><input name="password" type="password"></form>'
        f'<script id="oauth-args" type="application/json">{arguments}</script>'
    )


def signin(context: CloudContext, request: SimRequest, params: RouteParams) -> SimResponse:
    """POST /oauth/v2/signin: rate limit, cookie, CSRF, credentials, then 2FA or success."""
    auth = context.auth
    retry_after = auth.count_signin()
    if retry_after is not None:
        response = _oauth_error(429, "too_many_requests", "Too many sign-in attempts. Try again later.")
        response.headers.append(("Retry-After", retry_after_header(retry_after)))
        return response

    session = _session_from_cookie(context, request)
    if isinstance(session, SimResponse):
        return session
    form = request.form()
    if not _csrf_matches(session, form.get("csrf-token")):
        return _invalid_csrf()

    identity = context.state.identity
    username_ok = form.get("username", "").strip().lower() == identity.email.lower()
    password_ok = hmac.compare_digest(form.get("password", ""), identity.password)
    if not (username_ok and password_ok):
        return _oauth_error(401, "unauthorized", "Invalid user credentials.", cause="invalid_user_credentials")

    with auth.lock:
        session.password_verified = True
        if auth.require_2fa and not session.signed_in:
            # Each sign-in that needs 2FA makes Blink send a new PIN.
            auth.sms_sent += 1
            challenge = {
                "next_time_in_secs": 60,
                "phone": identity.phone_masked,
                "tsv_methods": ["sms", "whatsapp", "voice"],
                "tsv_state": "sms",
                "user_id": identity.user_id,
            }
            return json_response(412 if auth.two_factor_style == "412" else 202, challenge)
        session.signed_in = True

    response = SimResponse(302, b"", "text/html; charset=utf-8")
    response.headers.append(("Location", f"{context.base_url}/hosts/oauth/oauth/v2/authorize"))
    return response


def verify_two_factor(context: CloudContext, request: SimRequest, params: RouteParams) -> SimResponse:
    """POST /oauth/v2/2fa/verify: accept the PIN sent after a 2FA-requiring sign-in."""
    session = _session_from_cookie(context, request)
    if isinstance(session, SimResponse):
        return session
    form = request.form()
    if not _csrf_matches(session, form.get("csrf-token")):
        return _invalid_csrf()
    if not session.password_verified:
        return _oauth_error(
            400, "bad_request", "No verification code was requested in this session.", cause="2fa_not_requested"
        )
    if not hmac.compare_digest(form.get("2fa_code", "").strip(), context.state.identity.pin):
        return _oauth_error(400, "bad_request", "Invalid verification code.", cause="invalid_2fa_code")
    with context.auth.lock:
        session.signed_in = True
    return json_response(201, {"status": "auth-completed"})


def token(context: CloudContext, request: SimRequest, params: RouteParams) -> SimResponse:
    """POST /oauth/token: authorization_code and refresh_token grants."""
    form = request.form()
    hardware_id = form.get("hardware_id") or request.header("hardware_id")
    if hardware_id in BLOCKED_HARDWARE_IDS:
        return blocked_response()
    grant_type = form.get("grant_type", "")
    if grant_type == "authorization_code":
        return _exchange_code(context, form)
    if grant_type == "refresh_token":
        return _refresh(context, form)
    if grant_type == "password":
        return _oauth_error(401, "unsupported_grant_type", "Invalid grant type")
    return _oauth_error(400, "unsupported_grant_type", f"Invalid grant type {grant_type!r}")


def _token_response(context: CloudContext, access_token: str, refresh_token: str) -> SimResponse:
    payload = {
        "access_token": access_token,
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "expires_in": _whole_if_integral(context.auth.token_lifetime_seconds),
        "scope": "client",
    }
    return json_response(200, payload, [("Cache-Control", "no-store")])


def _whole_if_integral(seconds: float) -> float | int:
    return int(seconds) if float(seconds).is_integer() else seconds


def _exchange_code(context: CloudContext, form: dict[str, str]) -> SimResponse:
    record = context.auth.redeem_code(form.get("code", ""))
    if record is None:
        return _oauth_error(400, "invalid_grant", "Invalid or already used authorization code.")
    client_id = form.get("client_id", "")
    if client_id != record.client_id:
        return _oauth_error(401, "invalid_client", f"Invalid client_id {client_id!r}.")
    if not hmac.compare_digest(pkce_challenge(form.get("code_verifier", "")), record.code_challenge):
        return _oauth_error(400, "invalid_grant", "code_verifier does not match the code_challenge.")
    if form.get("hardware_id", "") != record.hardware_id:
        return _oauth_error(400, "invalid_grant", "hardware_id does not match the authorization request.")
    pair = context.auth.issue_tokens(record.client_id, record.hardware_id)
    return _token_response(context, pair.access_token, pair.refresh_token)


def _refresh(context: CloudContext, form: dict[str, str]) -> SimResponse:
    auth = context.auth
    with auth.lock:
        auth.refreshes += 1
        refresh_token = form.get("refresh_token", "")
        grant = auth.refresh_grant(refresh_token)
        if grant is None:
            return _oauth_error(401, "invalid_grant", "Invalid refresh token")
        client_id = form.get("client_id", "")
        if client_id != grant.oauth_client_id:
            return _oauth_error(
                401, "invalid_client", f"Client {client_id!r} is not authorized for this refresh token."
            )
        pair = auth.rotate(refresh_token)
    return _token_response(context, pair.access_token, pair.refresh_token)


def build_router() -> Router[OAuthHandler]:
    router: Router[OAuthHandler] = Router()
    router.add("GET", "/oauth/v2/authorize", authorize)
    router.add("GET", "/oauth/v2/signin", signin_page)
    router.add("POST", "/oauth/v2/signin", signin)
    router.add("POST", "/oauth/v2/2fa/verify", verify_two_factor)
    router.add("POST", "/oauth/token", token)
    return router


_ROUTER = build_router()


def handle_oauth_request(context: CloudContext, request: SimRequest) -> SimResponse:
    resolved = _ROUTER.resolve(request.method, request.path)
    if isinstance(resolved, SimResponse):
        return resolved
    handler, params = resolved
    return handler(context, request, params)
