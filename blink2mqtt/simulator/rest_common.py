"""Shared pieces of the REST handlers: the call record, Blink's error bodies and id lookups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Callable

from blink2mqtt.simulator.auth_store import AccessGrant
from blink2mqtt.simulator.commands import CommandEffect, command_json
from blink2mqtt.simulator.context import CloudContext
from blink2mqtt.simulator.http_types import SimRequest, SimResponse, json_response
from blink2mqtt.simulator.model import Device, DeviceFamily, Network
from blink2mqtt.simulator.routing import RouteParams
from blink2mqtt.simulator.state import AccountState


@dataclass
class RestCall:
    """One authenticated REST request, handled while ``state.lock`` is held."""

    context: CloudContext
    state: AccountState
    request: SimRequest
    params: RouteParams
    grant: AccessGrant | None

    def int_param(self, name: str) -> int:
        value = self.params[name]
        assert isinstance(value, int), f"route parameter {name} must be declared as an id"
        return value

    def str_param(self, name: str) -> str:
        return str(self.params[name])


RestHandler = Callable[[RestCall], SimResponse]


def unauthorized() -> SimResponse:
    return json_response(401, {"message": "Unauthorized Access", "code": 101})


def app_update_required() -> SimResponse:
    return json_response(426, {"message": "An app update is required"})


def not_found(message: str) -> SimResponse:
    return json_response(404, {"message": message, "code": 404})


def bad_request(message: str, code: int | None = None) -> SimResponse:
    payload: dict[str, Any] = {"message": message}
    if code is not None:
        payload["code"] = code
    return json_response(400, payload)


def camera_not_found() -> SimResponse:
    # Blink returns this body with HTTP 200 when a camera endpoint gets another family's id.
    return json_response(200, {"message": "Camera not found", "code": 500})


def system_busy() -> SimResponse:
    return json_response(200, {"message": "System is busy, please wait", "error": None, "code": 307})


def find_network(call: RestCall) -> Network | SimResponse:
    network_id = call.int_param("network_id")
    network = call.state.networks.get(network_id)
    if network is None:
        return not_found(f"Network {network_id} not found")
    return network


def find_device(call: RestCall, family: DeviceFamily) -> tuple[Network, Device] | SimResponse:
    """Look up ``{network_id}`` and ``{camera_id}`` for an endpoint of one device family."""
    network = find_network(call)
    if isinstance(network, SimResponse):
        return network
    device_id = call.int_param("camera_id")
    device = call.state.devices.get(device_id)
    if device is None:
        return not_found(f"Device {device_id} not found")
    if device.family != family or device.network_id != network.id:
        return camera_not_found()
    return network, device


def start_command(
    call: RestCall,
    network: Network,
    name: str,
    effect: CommandEffect,
    device: Device | None = None,
) -> SimResponse:
    """Create a command unless another one keeps the network busy."""
    if call.state.commands.busy_command(network.id) is not None:
        return system_busy()
    command = call.state.commands.create(network.id, name, effect, device.id if device is not None else None)
    return json_response(200, command_json(command))


def json_object_body(call: RestCall) -> dict[str, Any] | SimResponse:
    """Return the JSON object body ({} when empty), or a 400 naming the problem."""
    try:
        body = call.request.json_body()
    except ValueError as error:
        return bad_request(f"Invalid JSON body: {error}")
    if body is None:
        return {}
    if not isinstance(body, dict):
        return bad_request(f"Invalid JSON body: expected an object, got {type(body).__name__}")
    return body
