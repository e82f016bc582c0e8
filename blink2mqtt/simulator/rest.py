"""Entry point of the REST hosts: public endpoints, bearer checks, host separation, dispatch.

``rest-prod`` serves only tier_info (and the public endpoints). Account endpoints are
served only by ``rest-<tier>``. Any other REST host returns 401 for them, as Blink does
for a wrong regional host.
"""

from __future__ import annotations

from collections.abc import Callable

from blink2mqtt.simulator.context import CloudContext
from blink2mqtt.simulator.http_types import SimRequest, SimResponse, json_response
from blink2mqtt.simulator.rest_account import register_account_routes, tier_info
from blink2mqtt.simulator.rest_common import RestCall, RestHandler, app_update_required, not_found, unauthorized
from blink2mqtt.simulator.rest_devices import register_device_routes
from blink2mqtt.simulator.rest_media import register_media_routes
from blink2mqtt.simulator.routing import RouteParams, Router

# Endpoints that need no bearer token take only the request and route parameters.
PublicHandler = Callable[[SimRequest, RouteParams], SimResponse]

PRODUCTION_HOST = "rest-prod"
TIER_INFO_PATH = "/api/v1/users/tier_info"

REGIONS = {
    "preferred": "usu011",
    "regions": {
        "usu011": {"display_order": 1, "dns": "u011", "friendly_name": "United States - EAST", "registration": True},
        "usu019": {"display_order": 2, "dns": "u019", "friendly_name": "United States - CENTRAL", "registration": True},
        "e002": {"display_order": 3, "dns": "e002", "friendly_name": "Europe", "registration": True},
        "sg": {"display_order": 4, "dns": "prsg", "friendly_name": "Southeast Asia", "registration": True},
    },
}


def _version(request: SimRequest, params: RouteParams) -> SimResponse:
    return json_response(200, {"message": "OK", "code": 103, "update_available": False, "update_required": False})


def _regions(request: SimRequest, params: RouteParams) -> SimResponse:
    return json_response(200, REGIONS)


def _health(request: SimRequest, params: RouteParams) -> SimResponse:
    return json_response(200, {"message": "OK"})


def _retired_login(request: SimRequest, params: RouteParams) -> SimResponse:
    # Blink responds to its retired password login and PIN endpoints with 426.
    return app_update_required()


def _build_public_router() -> Router[PublicHandler]:
    router: Router[PublicHandler] = Router()
    router.add("GET", "/api/v1/version", _version)
    router.add("GET", "/regions", _regions)
    router.add("GET", "/health", _health)
    for path in (
        "/api/v5/account/login",
        "/api/v4/account/login",
        "/api/v4/account/{account_id}/client/{client_id}/pin/verify",
        "/api/v4/account/{account_id}/client/{client_id}/pin/verify/",
        "/api/v5/accounts/{account_id}/users/{user_id}/clients/{client_id}/client_verification/pin/verify",
    ):
        router.add("POST", path, _retired_login)
    return router


def _build_account_router() -> Router[RestHandler]:
    router: Router[RestHandler] = Router()
    register_account_routes(router)
    register_device_routes(router)
    register_media_routes(router)
    return router


_PUBLIC_ROUTER = _build_public_router()
_ACCOUNT_ROUTER = _build_account_router()


def _bearer_token(request: SimRequest) -> str | None:
    authorization = request.header("authorization") or ""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def handle_rest_request(context: CloudContext, request: SimRequest) -> SimResponse:
    public = _PUBLIC_ROUTER.resolve(request.method, request.path)
    if not isinstance(public, SimResponse):
        public_handler, public_params = public
        return public_handler(request, public_params)

    token = _bearer_token(request)
    if token is None:
        if request.header("token_auth") or request.header("token-auth"):
            return app_update_required()
        return unauthorized()
    auth = context.auth
    grant = auth.authenticate(token)
    if grant is None:
        return unauthorized()

    state = context.state
    if request.path == TIER_INFO_PATH:
        if request.host != PRODUCTION_HOST:
            return not_found(f"{TIER_INFO_PATH} is served only by {PRODUCTION_HOST}")
        return tier_info(RestCall(context, state, request, {}, grant))
    if request.host != f"rest-{state.identity.tier}":
        return unauthorized()

    resolved = _ACCOUNT_ROUTER.resolve(request.method, request.path)
    if isinstance(resolved, SimResponse):
        return resolved
    handler, params = resolved
    account_id = params.get("account_id")
    if account_id is not None and account_id != state.identity.account_id:
        return unauthorized()
    with state.lock:
        state.commands.settle()
        return handler(RestCall(context, state, request, params, grant))
