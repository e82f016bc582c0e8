"""REST handlers for the account, its clients, networks, schedules and misc endpoints."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from blink2mqtt.simulator.commands import command_status_json
from blink2mqtt.simulator.http_types import SimResponse, json_response
from blink2mqtt.simulator.model import Program
from blink2mqtt.simulator.rest_common import (
    RestCall,
    RestHandler,
    bad_request,
    find_network,
    json_object_body,
    not_found,
    start_command,
)
from blink2mqtt.simulator.routing import Router
from blink2mqtt.simulator.timestamps import format_iso, format_zulu, utc_now
from blink2mqtt.simulator.views import homescreen_json, network_json, program_json, sync_module_json

ACCOUNT = "/api/v1/accounts/{account_id}"
AUTO_DELETE_DAY_OPTIONS = (3, 7, 14, 30, 365)


def homescreen(call: RestCall) -> SimResponse:
    headers = [("User-Id", str(call.state.identity.user_id))]
    if call.grant is not None:
        headers.append(("Client-Id", str(call.grant.blink_client_id)))
    return json_response(200, homescreen_json(call.state), headers)


def tier_info(call: RestCall) -> SimResponse:
    return json_response(200, {"tier": call.state.identity.tier, "account_id": call.state.identity.account_id})


# Notifications and clients --------------------------------------------------------------


def get_notifications(call: RestCall) -> SimResponse:
    return json_response(200, {"notifications": dict(call.state.notification_flags)})


def set_notifications(call: RestCall) -> SimResponse:
    body = json_object_body(call)
    if isinstance(body, SimResponse):
        return body
    flags = body.get("notifications")
    if not isinstance(flags, dict) or not flags:
        return bad_request('Invalid notification configuration: expected {"notifications": {"<flag>": true|false}}')
    for name, value in flags.items():
        if not isinstance(value, bool):
            return bad_request(f"Invalid value {value!r} for notification {name}: expected true or false")
    call.state.notification_flags.update(flags)
    return json_response(200, {"message": "Client Notification Configure Update Successful"})


def _client_options(call: RestCall) -> dict[str, Any] | SimResponse:
    client_id = call.int_param("client_id")
    if client_id not in call.context.auth.issued_blink_client_ids:
        return not_found(f"Client {client_id} not found")
    return call.state.client_options.setdefault(client_id, {})


def get_client_options(call: RestCall) -> SimResponse:
    options = _client_options(call)
    if isinstance(options, SimResponse):
        return options
    # Blink sends the options as a JSON document inside a string.
    return json_response(200, {"options": json.dumps(options)})


def update_client(call: RestCall) -> SimResponse:
    options = _client_options(call)
    if isinstance(options, SimResponse):
        return options
    body = json_object_body(call)
    if isinstance(body, SimResponse):
        return body
    options.update(body)
    return json_response(200, {"message": "Client successfully updated", "code": 241})


def logout(call: RestCall) -> SimResponse:
    # NOTE: the effect of logout on OAuth tokens is undocumented, so tokens stay valid.
    return json_response(200, {"message": "logout"})


# Networks -------------------------------------------------------------------------------


def change_arm_state(call: RestCall) -> SimResponse:
    action = call.str_param("action")
    if action not in ("arm", "disarm"):
        return not_found(f"Unknown network state action {action!r}: expected arm or disarm")
    network = find_network(call)
    if isinstance(network, SimResponse):
        return network
    state = call.state
    if action == "arm" and not any(device.motion_enabled for device in state.devices_on(network.id)):
        return json_response(200, {"message": "No Cameras Enabled for Motion", "code": 304})
    network_id = network.id
    target_armed = action == "arm"

    def apply_arm_state() -> None:
        target = state.networks.get(network_id)
        if target is not None:
            target.armed = target_armed
            target.updated_at = utc_now()

    return start_command(call, network, action, apply_arm_state)


def command_status(call: RestCall) -> SimResponse:
    network = find_network(call)
    if isinstance(network, SimResponse):
        return network
    command = call.state.commands.find(network.id, call.int_param("command_id"))
    if command is None:
        return not_found(f"Command {call.int_param('command_id')} not found on network {network.id}")
    call.state.commands.poll(command)
    return json_response(200, command_status_json(command))


def command_done(call: RestCall) -> SimResponse:
    network = find_network(call)
    if isinstance(network, SimResponse):
        return network
    command_id = call.int_param("command_id")
    command = call.state.commands.find(network.id, command_id)
    if command is None:
        return not_found(f"Command {command_id} not found on network {network.id}")
    call.state.commands.mark_done(command)
    return json_response(200, {"message": f"Command {command_id} set to :done", "code": 902})


def list_networks(call: RestCall) -> SimResponse:
    networks = call.state.networks.values()
    # Blink keys the summary by network id as a string.
    summary = {str(network.id): {"name": network.name, "onboarded": True} for network in networks}
    return json_response(200, {"summary": summary, "networks": [network_json(call.state, n) for n in networks]})


def get_network(call: RestCall) -> SimResponse:
    network = find_network(call)
    if isinstance(network, SimResponse):
        return network
    return json_response(200, {"network": network_json(call.state, network)})


def update_network(call: RestCall) -> SimResponse:
    network = find_network(call)
    if isinstance(network, SimResponse):
        return network
    body = json_object_body(call)
    if isinstance(body, SimResponse):
        return body
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not name.strip():
            return bad_request(f"Invalid network name {name!r}")
        network.name = name
        network.updated_at = utc_now()
    return json_response(200, {"network": network_json(call.state, network)})


def get_sync_module(call: RestCall) -> SimResponse:
    network = find_network(call)
    if isinstance(network, SimResponse):
        return network
    if network.sync_module is None:
        return not_found(f"Network {network.id} has no sync module")
    # A single object, not a list.
    return json_response(200, {"syncmodule": sync_module_json(call.state, network.sync_module)})


def camera_usage(call: RestCall) -> SimResponse:
    networks = []
    for network in call.state.networks.values():
        # Minis and doorbells are not listed here.
        cameras = [
            {"id": device.id, "name": device.name, "usage": 0, "lv_seconds": 0, "clip_seconds": 0}
            for device in call.state.devices_on(network.id)
            if device.family == "camera"
        ]
        networks.append({"network_id": network.id, "name": network.name, "cameras": cameras})
    return json_response(200, {"range_days": 7, "reference": {"usage": 400}, "networks": networks})


def get_network_snooze(call: RestCall) -> SimResponse:
    network = find_network(call)
    if isinstance(network, SimResponse):
        return network
    now = utc_now()
    until = network.snooze_until if network.snooze_until is not None and network.snooze_until > now else None
    return json_response(200, {"snooze_till": format_zulu(until) if until is not None else None})


def snooze_network(call: RestCall) -> SimResponse:
    network = find_network(call)
    if isinstance(network, SimResponse):
        return network
    body = json_object_body(call)
    if isinstance(body, SimResponse):
        return body
    minutes = body.get("snooze_time")
    error = call.state.snooze_error(minutes)
    if error is not None:
        return bad_request(error)
    state = call.state
    network_id = network.id

    def apply_network_snooze() -> None:
        target = state.networks.get(network_id)
        if target is not None and isinstance(minutes, int):
            target.snooze_until = utc_now() + dt.timedelta(minutes=minutes)

    return start_command(call, network, "snooze", apply_network_snooze)


# Schedules (programs) -------------------------------------------------------------------


def list_programs(call: RestCall) -> SimResponse:
    network = find_network(call)
    if isinstance(network, SimResponse):
        return network
    programs = [program_json(p) for p in call.state.programs.values() if p.network_id == network.id]
    # A bare JSON array, unlike most endpoints.
    return json_response(200, programs)


def _find_program(call: RestCall) -> Program | SimResponse:
    network = find_network(call)
    if isinstance(network, SimResponse):
        return network
    program_id = call.int_param("program_id")
    program = call.state.programs.get(program_id)
    if program is None or program.network_id != network.id:
        return not_found(f"Program {program_id} not found on network {network.id}")
    return program


def enable_program(call: RestCall) -> SimResponse:
    program = _find_program(call)
    if isinstance(program, SimResponse):
        return program
    program.enabled = True
    return json_response(200, {"message": f"Successfully enabled program {program.id}", "code": 802})


def disable_program(call: RestCall) -> SimResponse:
    program = _find_program(call)
    if isinstance(program, SimResponse):
        return program
    program.enabled = False
    return json_response(200, {"message": f"Successfully disabled program {program.id}", "code": 803})


def update_program(call: RestCall) -> SimResponse:
    program = _find_program(call)
    if isinstance(program, SimResponse):
        return program
    body = json_object_body(call)
    if isinstance(body, SimResponse):
        return body
    schedule = body.get("schedule", program.schedule)
    if not isinstance(schedule, list) or not all(isinstance(entry, dict) for entry in schedule):
        return bad_request(f"Invalid schedule {schedule!r}: expected a list of objects")
    name = body.get("name", program.name)
    if not isinstance(name, str):
        return bad_request(f"Invalid program name {name!r}")
    program.schedule = schedule
    program.name = name
    program.format = str(body.get("format", program.format))
    rendered = program_json(program)
    actions = [
        {
            "id": program.id * 100 + index,
            "program_id": program.id,
            "network_id": program.network_id,
            "dow": day,
            "time": entry.get("time"),
            "action": entry.get("action"),
        }
        for index, (day, entry) in enumerate((day, entry) for entry in schedule for day in entry.get("dow", []))
    ]
    return json_response(200, {"program": {**rendered, "data": json.dumps(schedule)}, "actions": actions})


# Account settings and misc ----------------------------------------------------------------


def set_video_options(call: RestCall) -> SimResponse:
    body = json_object_body(call)
    if isinstance(body, SimResponse):
        return body
    days = body.get("auto_delete_days", call.state.video_options.get("auto_delete_days"))
    if days not in AUTO_DELETE_DAY_OPTIONS or isinstance(days, bool):
        return json_response(400, {"message": "Invalid auto purge days value", "code": 213})
    call.state.video_options["auto_delete_days"] = days
    if "storage" in body:
        call.state.video_options["storage"] = body["storage"]
    return json_response(200, {"message": "Video options updated successfully"})


def account_options(call: RestCall) -> SimResponse:
    return json_response(
        200,
        {
            "owl_app_enabled": True,
            "legacy_account_mini": True,
            "catalina_app_enabled": True,
            "sm2_app_enabled": True,
            "snapshot_app_enabled": True,
            "c2s_clip_list_limit": 1000,
            "breadcrumbs_enabled": False,
        },
    )


def get_user(call: RestCall) -> SimResponse:
    identity = call.state.identity
    created = format_iso(utc_now() - dt.timedelta(days=900))
    return json_response(
        200,
        {
            "id": identity.user_id,
            "created_at": created,
            "updated_at": created,
            "email": identity.email,
            "verified": True,
            "verification_required": False,
            "phone_verified": True,
            "phone_verification_required": False,
            "verification_channel": "phone",
            "phone_verification_channel": "sms",
            "force_password_reset": False,
            "reset_expiration": None,
            "time_zone": identity.time_zone,
            "owner": True,
            "name": "",
            "user_access": "write",
            "temp_units": "f",
            "type": "regular",
            "pin_created_at": None,
            "pin_failures": 0,
            "phone_number": identity.phone_masked,
            "country_calling_code": "1",
            "locale": "en_US",
            "account_id": identity.account_id,
        },
    )


def upload_logs(call: RestCall) -> SimResponse:
    return json_response(
        200, {"id": int(utc_now().timestamp()), "created_at": format_iso(utc_now()), "status": "uploaded"}
    )


def register_account_routes(router: Router[RestHandler]) -> None:
    router.add("GET", "/api/v3/accounts/{account_id}/homescreen", homescreen)
    router.add("GET", f"{ACCOUNT}/notifications/configuration", get_notifications)
    router.add("POST", f"{ACCOUNT}/notifications/configuration", set_notifications)
    router.add("GET", f"{ACCOUNT}/clients/{{client_id}}/options", get_client_options)
    router.add("POST", f"{ACCOUNT}/clients/{{client_id}}/update", update_client)
    router.add("POST", "/client/{client_id}/update", update_client)
    router.add("POST", "/api/v4/account/{account_id}/client/{client_id}/logout", logout)
    router.add("POST", f"{ACCOUNT}/networks/{{network_id}}/state/{{action:str}}", change_arm_state)
    router.add("GET", "/network/{network_id}/command/{command_id}", command_status)
    router.add("POST", "/network/{network_id}/command/{command_id}/done/", command_done)
    router.add("POST", "/network/{network_id}/command/{command_id}/done", command_done)
    router.add("GET", "/networks", list_networks)
    router.add("GET", "/network/{network_id}", get_network)
    router.add("POST", "/network/{network_id}/update", update_network)
    router.add("GET", "/network/{network_id}/syncmodules", get_sync_module)
    router.add("GET", "/api/v1/camera/usage", camera_usage)
    router.add("GET", f"{ACCOUNT}/networks/{{network_id}}/snooze", get_network_snooze)
    router.add("POST", f"{ACCOUNT}/networks/{{network_id}}/snooze", snooze_network)
    router.add("GET", "/api/v1/networks/{network_id}/programs", list_programs)
    router.add("POST", "/api/v1/networks/{network_id}/programs/{program_id}/enable", enable_program)
    router.add("POST", "/api/v1/networks/{network_id}/programs/{program_id}/disable", disable_program)
    router.add("POST", "/api/v1/networks/{network_id}/programs/{program_id}/update", update_program)
    router.add("POST", "/api/v1/account/video_options", set_video_options)
    router.add("GET", "/api/v1/account/options", account_options)
    router.add("GET", "/user", get_user)
    router.add("POST", "/app/logs/upload", upload_logs)
