"""The /_sim control API: each control method of LocalBlinkCloud as ``POST /_sim/<name>``.

The JSON body contains the method's keyword arguments and the response is ``{"result": ...}``.
``GET /_sim/state`` dumps the account and ``GET /_sim/requests`` the request log.
Invalid arguments get 400 and unknown ids 404, each with ``{"error": "..."}``.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol
from collections.abc import Callable

from blink2mqtt.simulator.dispatch import RecordedRequest
from blink2mqtt.simulator.http_types import SimRequest, SimResponse, json_response
from blink2mqtt.simulator.state import UnknownIdError

logger = logging.getLogger(__name__)

CONTROL_METHODS = (
    "trigger_motion",
    "delete_media",
    "update_camera",
    "update_network",
    "add_camera",
    "add_network",
    "remove_device",
    "remove_network",
    "set_two_factor",
    "expire_tokens",
    "revoke_refresh_tokens",
    "fail_next_command",
    "inject_fault",
    "clear_faults",
    "set_snooze_allowed",
    "set_thumbnail_frozen",
    "set_thumbnail_payload",
    "set_login_rate_limit",
    "reset",
    "clear_requests",
)


class ControlTarget(Protocol):
    """Part of LocalBlinkCloud that the control API uses."""

    @property
    def requests(self) -> list[RecordedRequest]: ...

    def state_snapshot(self) -> dict[str, Any]: ...


def handle_control_request(target: ControlTarget, request: SimRequest) -> SimResponse:
    name = request.path.strip("/")
    if request.method == "GET" and name == "state":
        return json_response(200, target.state_snapshot())
    if request.method == "GET" and name == "requests":
        return json_response(200, [entry.as_json() for entry in target.requests])
    if name not in CONTROL_METHODS:
        return json_response(
            404,
            {
                "error": f"unknown control method {name!r}: expected state, requests or one of {', '.join(CONTROL_METHODS)}"
            },
        )
    if request.method != "POST":
        return json_response(405, {"error": f"use POST for /_sim/{name}"})

    try:
        arguments = json.loads(request.body) if request.body.strip() else {}
    except ValueError as error:
        return json_response(400, {"error": f"invalid JSON body for /_sim/{name}: {error}"})
    if not isinstance(arguments, dict):
        return json_response(400, {"error": f"the body of /_sim/{name} must be a JSON object of keyword arguments"})

    method: Callable[..., Any] = getattr(target, name)
    try:
        result = method(**arguments)
    except UnknownIdError as error:
        logger.info("control method %s rejected: %s", name, error)
        return json_response(404, {"error": str(error)})
    except (ValueError, TypeError) as error:
        logger.info("control method %s rejected: %s", name, error)
        return json_response(400, {"error": f"{name}: {error}"})
    logger.debug("control method %s applied", name)
    return json_response(200, {"result": result})
