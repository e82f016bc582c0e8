"""REST handlers for camera actions in the three URL families.

Classic sync-module cameras live under /network/{N}/camera/{C}, Minis under
/api/v1/accounts/{A}/networks/{N}/owls/{C} and doorbells under .../doorbells/{C}.
An id of another family on a family's path gets Blink's "Camera not found" body.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from collections.abc import Callable

from blink2mqtt.simulator.http_types import SimResponse, json_response
from blink2mqtt.simulator.model import Device, DeviceFamily
from blink2mqtt.simulator.rest_common import (
    RestCall,
    RestHandler,
    bad_request,
    find_device,
    json_object_body,
    start_command,
    system_busy,
)
from blink2mqtt.simulator.routing import Router
from blink2mqtt.simulator.state import AccountState
from blink2mqtt.simulator.timestamps import utc_now
from blink2mqtt.simulator.views import camera_info_json, device_config_json, signals_json

CLASSIC = "/network/{network_id}/camera/{camera_id}"
MINI = "/api/v1/accounts/{account_id}/networks/{network_id}/owls/{camera_id}"
DOORBELL = "/api/v1/accounts/{account_id}/networks/{network_id}/doorbells/{camera_id}"
MINI_NIGHT_VISION = ("off", "on", "auto")


def _device_effect(state: AccountState, device_id: int, change: Callable[[Device], None]) -> Callable[[], None]:
    """Build a command effect that changes the device if it still exists at completion."""

    def apply() -> None:
        device = state.devices.get(device_id)
        if device is not None:
            change(device)
            device.updated_at = utc_now()

    return apply


def _set_motion(enabled: bool) -> Callable[[Device], None]:
    def change(device: Device) -> None:
        device.motion_enabled = enabled

    return change


def motion_toggle(family: DeviceFamily, enabled: bool) -> RestHandler:
    def handle(call: RestCall) -> SimResponse:
        found = find_device(call, family)
        if isinstance(found, SimResponse):
            return found
        network, device = found
        effect = _device_effect(call.state, device.id, _set_motion(enabled))
        return start_command(call, network, "config_lfr", effect, device)

    return handle


def new_thumbnail(family: DeviceFamily) -> RestHandler:
    def handle(call: RestCall) -> SimResponse:
        found = find_device(call, family)
        if isinstance(found, SimResponse):
            return found
        network, device = found
        state = call.state
        device_id = device.id

        def take() -> None:
            target = state.devices.get(device_id)
            if target is not None:
                state.take_thumbnail(target)

        return start_command(call, network, "thumbnail", take, device)

    return handle


def record_clip(family: DeviceFamily) -> RestHandler:
    def handle(call: RestCall) -> SimResponse:
        found = find_device(call, family)
        if isinstance(found, SimResponse):
            return found
        network, device = found
        state = call.state
        device_id = device.id

        def add_clip() -> int | None:
            target = state.devices.get(device_id)
            if target is None:
                return None
            return state.add_media(target, utc_now(), source="snapshot").id

        return start_command(call, network, "clip", add_clip, device)

    return handle


def snooze_device(family: DeviceFamily) -> RestHandler:
    def handle(call: RestCall) -> SimResponse:
        found = find_device(call, family)
        if isinstance(found, SimResponse):
            return found
        network, device = found
        body = json_object_body(call)
        if isinstance(body, SimResponse):
            return body
        minutes = body.get("snooze_time")
        error = call.state.snooze_error(minutes)
        if error is not None:
            return bad_request(error)
        if not device.motion_enabled:
            return bad_request("Motion capture not enabled for device", code=2805)
        assert isinstance(minutes, int)

        def change(target: Device) -> None:
            target.snooze_until = utc_now() + dt.timedelta(minutes=minutes)

        return start_command(call, network, "snooze", _device_effect(call.state, device.id, change), device)

    return handle


def get_config(family: DeviceFamily) -> RestHandler:
    def handle(call: RestCall) -> SimResponse:
        found = find_device(call, family)
        if isinstance(found, SimResponse):
            return found
        config = device_config_json(call.state, found[1])
        # Classic cameras wrap the config in a one-element "camera" list, but Minis and doorbells do not.
        return json_response(200, {"camera": [config]} if family == "camera" else config)

    return handle


def get_signals(call: RestCall) -> SimResponse:
    found = find_device(call, "camera")
    if isinstance(found, SimResponse):
        return found
    return json_response(200, signals_json(found[1]))


def get_camera_info(call: RestCall) -> SimResponse:
    found = find_device(call, "camera")
    if isinstance(found, SimResponse):
        return found
    return json_response(200, camera_info_json(call.state, found[1]))


def _config_changes(family: DeviceFamily, body: dict[str, Any]) -> dict[str, Any] | str:
    """Validate a config update body and return the Device attribute changes or an error message.

    Keys the simulator does not model are ignored.
    """
    changes: dict[str, Any] = {}
    motion_key = "motion_enabled" if family == "camera" else "enabled"
    for key, value in body.items():
        if key == "name":
            if not isinstance(value, str) or not value.strip():
                return f"Invalid name {value!r}"
            changes["name"] = value
        elif key == motion_key:
            if not isinstance(value, bool):
                return f"Invalid {key} {value!r}: expected true or false"
            changes["motion_enabled"] = value
        elif key == "illuminator_enable":
            if family == "mini":
                if value not in MINI_NIGHT_VISION:
                    return f"Invalid illuminator_enable {value!r}: expected one of {', '.join(MINI_NIGHT_VISION)}"
                changes["illuminator_enable"] = MINI_NIGHT_VISION.index(value)
            else:
                if isinstance(value, bool) or value not in (0, 1, 2):
                    return f"Invalid illuminator_enable {value!r}: expected 0 (off), 1 (on) or 2 (auto)"
                changes["illuminator_enable"] = value
        elif key == "motion_sensitivity":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 9:
                return f"Invalid motion_sensitivity {value!r}: expected 1 to 9"
            changes["motion_sensitivity"] = value
        elif key == "video_length":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 60:
                return f"Invalid video_length {value!r}: expected 1 to 60 seconds"
            changes["video_length"] = value
    return changes


def update_config(family: DeviceFamily) -> RestHandler:
    def handle(call: RestCall) -> SimResponse:
        found = find_device(call, family)
        if isinstance(found, SimResponse):
            return found
        network, device = found
        body = json_object_body(call)
        if isinstance(body, SimResponse):
            return body
        changes = _config_changes(family, body)
        if isinstance(changes, str):
            return bad_request(changes)

        def change(target: Device) -> None:
            for attribute, value in changes.items():
                setattr(target, attribute, value)

        # A Mini's motion toggle goes through its config endpoint, so it gets the name of other motion toggles.
        name = "config_lfr" if set(changes) == {"motion_enabled"} else "config_update"
        return start_command(call, network, name, _device_effect(call.state, device.id, change), device)

    return handle


def liveview(family: DeviceFamily) -> RestHandler:
    def handle(call: RestCall) -> SimResponse:
        found = find_device(call, family)
        if isinstance(found, SimResponse):
            return found
        network, device = found
        commands = call.state.commands
        if commands.busy_command(network.id) is not None:
            return system_busy()
        # The session ends with POST .../command/{id}/done/ and does not block other commands.
        command = commands.create(network.id, "lv_relay", lambda: None, device.id, blocks_network=False)
        client_id = call.grant.blink_client_id if call.grant is not None else 0
        return json_response(
            200,
            {
                "command_id": command.id,
                "join_available": True,
                "join_state": "available",
                "server": f"immis://127.0.0.1:443/SIM{command.id}__IMDS_{device.id}?client_id={client_id}",
                "duration": 300,
                "extended_duration": 5400,
                "continue_interval": 300,
                "continue_warning": 0,
                "polling_interval": 15,
                "submit_logs": True,
                "new_command": True,
                "media_id": None,
                "options": {"poor_connection": False},
                "liveview_token": secrets.token_urlsafe(16),
            },
        )

    return handle


def register_device_routes(router: Router[RestHandler]) -> None:
    router.add("POST", f"{CLASSIC}/enable", motion_toggle("camera", True))
    router.add("POST", f"{CLASSIC}/disable", motion_toggle("camera", False))
    router.add("POST", f"{CLASSIC}/thumbnail", new_thumbnail("camera"))
    router.add("POST", f"{CLASSIC}/clip", record_clip("camera"))
    router.add("POST", f"{CLASSIC}/update", update_config("camera"))
    router.add("GET", f"{CLASSIC}/config", get_config("camera"))
    router.add("GET", f"{CLASSIC}/signals", get_signals)
    router.add("GET", CLASSIC, get_camera_info)
    router.add(
        "POST",
        "/api/v1/accounts/{account_id}/networks/{network_id}/cameras/{camera_id}/snooze",
        snooze_device("camera"),
    )
    for version in ("v5", "v6"):
        router.add(
            "POST",
            f"/api/{version}/accounts/{{account_id}}/networks/{{network_id}}/cameras/{{camera_id}}/liveview",
            liveview("camera"),
        )

    router.add("POST", f"{MINI}/config", update_config("mini"))
    router.add("GET", f"{MINI}/config", get_config("mini"))
    router.add("POST", f"{MINI}/thumbnail", new_thumbnail("mini"))
    router.add("POST", f"{MINI}/clip", record_clip("mini"))
    router.add("POST", f"{MINI}/snooze", snooze_device("mini"))
    router.add(
        "POST", "/api/v2/accounts/{account_id}/networks/{network_id}/owls/{camera_id}/liveview", liveview("mini")
    )

    router.add("POST", f"{DOORBELL}/enable", motion_toggle("doorbell", True))
    router.add("POST", f"{DOORBELL}/disable", motion_toggle("doorbell", False))
    router.add("POST", f"{DOORBELL}/thumbnail", new_thumbnail("doorbell"))
    router.add("POST", f"{DOORBELL}/clip", record_clip("doorbell"))
    router.add("POST", f"{DOORBELL}/snooze", snooze_device("doorbell"))
    router.add("GET", f"{DOORBELL}/config", get_config("doorbell"))
    router.add("POST", f"{DOORBELL}/config", update_config("doorbell"))
    router.add(
        "POST",
        "/api/v2/accounts/{account_id}/networks/{network_id}/doorbells/{camera_id}/liveview",
        liveview("doorbell"),
    )
