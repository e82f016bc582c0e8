"""JSON shapes of the simulated account, as Blink's REST endpoints return them.

Every function reads model records and must be called with the account lock held.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from blink2mqtt.simulator.model import DOORBELL_PRODUCT_TYPE, Device, MediaEntry, Network, Program, SyncModule
from blink2mqtt.simulator.state import AccountState, thumbnail_token
from blink2mqtt.simulator.timestamps import format_iso, format_zulu, utc_now

JsonObject = dict[str, Any]


def _moment_name(thumbnail_ts: int) -> str:
    moment = dt.datetime.fromtimestamp(thumbnail_ts, dt.timezone.utc)
    return moment.strftime("%Y_%m_%d__%I_%M%p")


def product_type(device: Device) -> str:
    return DOORBELL_PRODUCT_TYPE if device.family == "doorbell" else device.type


def thumbnail_path(state: AccountState, device: Device) -> str:
    """Return the homescreen ``thumbnail`` value in the device's style (see ThumbnailStyle)."""
    account_id = state.identity.account_id
    token = thumbnail_token(device.id, device.thumbnail_ts)
    if device.thumbnail_style == "legacy":
        return (
            f"/media/production/account/{account_id}/network/{device.network_id}/camera/{device.id}/"
            f"clip_{token}_{_moment_name(device.thumbnail_ts)}"
        )
    if device.thumbnail_style == "owl":
        return (
            f"/media/{state.identity.tier}/account/{account_id}/network/{device.network_id}/owl/{device.id}/"
            f"thumbnail/fw_{device.fw_version}__{token}_{_moment_name(device.thumbnail_ts)}"
        )
    return (
        f"/api/v3/media/accounts/{account_id}/networks/{device.network_id}/{product_type(device)}/{device.id}/"
        f"thumbnail/thumbnail.jpg?ts={device.thumbnail_ts}&ext="
    )


def _snooze_seconds_remaining(until: dt.datetime | None, now: dt.datetime) -> int | None:
    if until is None or until <= now:
        return None
    return int((until - now).total_seconds())


def _snooze_till(until: dt.datetime | None, now: dt.datetime) -> str | None:
    if until is None or until <= now:
        return None
    return format_zulu(until)


def _wifi_dbm(bars: int) -> int:
    return -90 + bars * 10


def _battery_voltage(device: Device) -> int:
    # Hundredths of a volt. Real configs show 154 and 163 for good batteries, and the low value is a guess.
    return 120 + device.battery_level * 14 if device.battery_ok else 118


def network_json(state: AccountState, network: Network) -> JsonObject:
    """Render a network as /networks, /network/{N} and /network/{N}/update return it."""
    module = network.sync_module
    return {
        "id": network.id,
        "created_at": format_iso(network.created_at),
        "updated_at": format_iso(network.updated_at),
        "name": network.name,
        "network_key": f"sim-network-key-{network.id}",
        "description": "",
        "network_origin": "normal",
        "locale": "",
        "time_zone": network.time_zone,
        "dst": network.dst,
        "ping_interval": 60,
        "armed": network.armed,
        "autoarm_geo_enable": False,
        "autoarm_time_enable": False,
        "lv_mode": "relay",
        "lfr_channel": 0,
        "video_destination": "server",
        "storage_used": 0,
        "storage_total": 0,
        "video_count": sum(1 for m in state.media.values() if m.network_id == network.id and not m.deleted),
        "video_history_count": 4000,
        "sm_backup_enabled": False,
        "arm_string": "Armed" if network.armed else "Disarmed",
        "busy": state.commands.busy_command(network.id) is not None,
        "camera_error": False,
        "sync_module_error": module is not None and not module.online,
        "feature_plan_id": None,
        "account_id": state.identity.account_id,
        "lv_save": False,
    }


def sync_module_json(state: AccountState, module: SyncModule) -> JsonObject:
    return {
        "id": module.id,
        "created_at": format_iso(module.created_at),
        "updated_at": format_iso(module.updated_at),
        "onboarded": True,
        "status": "online" if module.online else "offline",
        "name": module.name,
        "serial": module.serial,
        "fw_version": module.fw_version,
        "type": module.type,
        "subtype": module.subtype,
        "last_hb": format_iso(utc_now() if module.online else module.updated_at),
        "wifi_strength": module.wifi_bars,
        "network_id": module.network_id,
        "enable_temp_alerts": True,
        "local_storage_enabled": False,
        "local_storage_compatible": True,
        "local_storage_status": "unavailable",
        "revision": "01",
    }


def _camera_home_json(state: AccountState, device: Device, now: dt.datetime) -> JsonObject:
    remaining = _snooze_seconds_remaining(device.snooze_until, now)
    return {
        "id": device.id,
        "created_at": format_iso(device.created_at),
        "updated_at": format_iso(device.updated_at),
        "name": device.name,
        "serial": device.serial,
        "fw_version": device.fw_version,
        "type": device.type,
        "enabled": device.motion_enabled,
        "thumbnail": thumbnail_path(state, device),
        "status": "online" if device.online else "offline",
        "battery": "ok" if device.battery_ok else "low",
        "usage_rate": False,
        "network_id": device.network_id,
        "issues": [],
        "signals": {
            "lfr": device.lfr_bars,
            "wifi": device.wifi_bars,
            "temp": device.temperature_f,
            "battery": device.battery_level,
        },
        "local_storage_enabled": False,
        "local_storage_compatible": False,
        "snooze": remaining is not None,
        # NOTE: Blink does not document the unit of snooze_time_remaining, so seconds is a guess.
        "snooze_time_remaining": remaining,
        "revision": None,
        "color": "black",
    }


def _owl_home_json(state: AccountState, device: Device, now: dt.datetime) -> JsonObject:
    remaining = _snooze_seconds_remaining(device.snooze_until, now)
    return {
        "id": device.id,
        "created_at": format_iso(device.created_at),
        "updated_at": format_iso(device.updated_at),
        "name": device.name,
        "type": device.type,
        "onboarded": True,
        "serial": device.serial,
        "fw_version": device.fw_version,
        "enabled": device.motion_enabled,
        "thumbnail": thumbnail_path(state, device),
        "status": "online" if device.online else "offline",
        "network_id": device.network_id,
        "local_storage_enabled": False,
        "local_storage_compatible": True,
        "snooze": remaining is not None,
        "snooze_time_remaining": remaining,
        "revision": "00",
    }


def _doorbell_home_json(state: AccountState, device: Device) -> JsonObject:
    # Only the doorbell keys that blinkpy's tests confirm, so clients cannot rely on more.
    return {
        "id": device.id,
        "name": device.name,
        "network_id": device.network_id,
        "onboarded": True,
        "enabled": device.motion_enabled,
        "status": "online" if device.online else "offline",
        "thumbnail": thumbnail_path(state, device),
        "serial": device.serial,
    }


def homescreen_json(state: AccountState) -> JsonObject:
    """Render GET /api/v3/accounts/{A}/homescreen."""
    now = utc_now()
    cameras: list[JsonObject] = []
    owls: list[JsonObject] = []
    doorbells: list[JsonObject] = []
    for device in state.devices.values():
        if device.family == "camera":
            cameras.append(_camera_home_json(state, device, now))
        elif device.family == "mini":
            owls.append(_owl_home_json(state, device, now))
        else:
            doorbells.append(_doorbell_home_json(state, device))
    return {
        "account": {
            "id": state.identity.account_id,
            "email_verified": True,
            "email_verification_required": False,
            "amazon_account_linked": False,
        },
        "networks": [
            {
                "id": network.id,
                "created_at": format_iso(network.created_at),
                "updated_at": format_iso(network.updated_at),
                "name": network.name,
                "time_zone": network.time_zone,
                "dst": network.dst,
                "armed": network.armed,
                "lv_save": False,
            }
            for network in state.networks.values()
        ],
        "sync_modules": [
            sync_module_json(state, network.sync_module)
            for network in state.networks.values()
            if network.sync_module is not None
        ],
        "cameras": cameras,
        "sirens": [],
        "chimes": [],
        "video_stats": {
            "storage": 0,
            "auto_delete_days": state.video_options.get("auto_delete_days", 14),
            "auto_delete_day_options": [3, 7, 14, 30, 365],
        },
        "doorbell_buttons": [],
        "owls": owls,
        "doorbells": doorbells,
        "app_updates": {"message": "OK", "code": 103, "update_available": False, "update_required": False},
        "device_limits": {
            "camera": 10,
            "chime": 5,
            "doorbell": 10,
            "doorbell_button": 2,
            "owl": 10,
            "siren": 5,
            "total_devices": 20,
        },
        "whats_new": {"updated_at": 20210208, "url": "https://updates.blinkforhome.com/"},
        "subscriptions": {"updated_at": "2023-11-07T01:48:59+00:00"},
        "entitlements": {"updated_at": "2023-11-07T01:48:59+00:00"},
        "tiv_lock_enable": True,
        "tiv_lock_status": {"locked": True},
        "accessories": {"storm": [], "rosie": []},
    }


def signals_json(device: Device) -> JsonObject:
    """Render GET /network/{N}/camera/{C}/signals. ``temp`` is in °F, like homescreen."""
    return {
        "lfr": device.lfr_bars,
        "wifi": device.wifi_bars,
        "vo9": 1,
        "updated_at": format_iso(device.updated_at),
        "temp": device.temperature_f,
        "battery": device.battery_level,
    }


def device_config_json(state: AccountState, device: Device) -> JsonObject:
    """Render the fields of a device's /config, where ``thumbnail`` is a bare epoch string."""
    now = utc_now()
    network = state.network(device.network_id)
    config: JsonObject = {
        "id": device.id,
        "created_at": format_iso(device.created_at),
        "updated_at": format_iso(device.updated_at),
        "name": device.name,
        "serial": device.serial,
        "fw_version": device.fw_version,
        "type": product_type(device),
        "network_id": device.network_id,
        "account_id": state.identity.account_id,
        "thumbnail": str(device.thumbnail_ts),
        "enabled": device.motion_enabled,
        "armed": network.armed,
        "status": "online" if device.online else "offline",
        "motion_sensitivity": device.motion_sensitivity,
        "video_length": device.video_length,
        "snooze_till": _snooze_till(device.snooze_until, now),
    }
    if device.family == "camera":
        config.update(
            {
                "illuminator_enable": device.illuminator_enable,
                "temperature": device.temperature_f,
                "wifi_strength": _wifi_dbm(device.wifi_bars),
                "lfr_strength": -100 + device.lfr_bars * 10,
                "battery_voltage": _battery_voltage(device),
                "battery_state": "ok" if device.battery_ok else "low",
                "signals": {
                    "lfr": device.lfr_bars,
                    "wifi": device.wifi_bars,
                    "updated_at": format_iso(device.updated_at),
                    "temp": device.temperature_f,
                    "battery": device.battery_level,
                    "battery_state": "ok" if device.battery_ok else "low",
                },
            }
        )
    elif device.family == "mini":
        # Minis take night vision as a string ("on", "off", "auto") instead of 0/1/2.
        config["illuminator_enable"] = ("off", "on", "auto")[device.illuminator_enable]
    return config


def camera_info_json(state: AccountState, device: Device) -> JsonObject:
    """Render GET /network/{N}/camera/{C} (camera info, superseded by homescreen)."""
    config = device_config_json(state, device)
    status = {
        "camera_id": device.id,
        "created_at": config["created_at"],
        "updated_at": config["updated_at"],
        "wifi_strength": config.get("wifi_strength"),
        "lfr_strength": config.get("lfr_strength"),
        "battery_voltage": config.get("battery_voltage"),
        "temperature": device.temperature_f,
        "fw_version": device.fw_version,
        "thumbnail": thumbnail_path(state, device),
        "mac": f"f4:b8:5e:{(device.id >> 16) & 0xFF:02x}:{(device.id >> 8) & 0xFF:02x}:{device.id & 0xFF:02x}",
    }
    return {"camera": [config], "camera_status": status, "signals": signals_json(device)}


def media_entry_json(state: AccountState, entry: MediaEntry) -> JsonObject:
    account_id = state.identity.account_id
    return {
        "id": entry.id,
        "created_at": format_iso(entry.created_at),
        "updated_at": format_iso(entry.updated_at),
        "deleted": entry.deleted,
        "device": "camera"
        if entry.device_family == "camera"
        else ("owl" if entry.device_family == "mini" else "doorbell"),
        "device_id": entry.device_id,
        "device_name": entry.device_name,
        "network_id": entry.network_id,
        "network_name": entry.network_name,
        "type": "video",
        "source": entry.source,
        "watched": entry.watched,
        "partial": False,
        "thumbnail": f"/api/v2/accounts/{account_id}/media/thumb/{entry.file_name}",
        "media": f"/api/v2/accounts/{account_id}/media/clip/{entry.file_name}.mp4",
        "additional_devices": [],
        "time_zone": entry.time_zone,
    }


def program_json(program: Program) -> JsonObject:
    return {
        "id": program.id,
        "network_id": program.network_id,
        "status": "enabled" if program.enabled else "disabled",
        "name": program.name,
        "schedule": program.schedule,
        "format": program.format,
    }
