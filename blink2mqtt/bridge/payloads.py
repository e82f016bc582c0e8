"""JSON state payloads of networks and cameras: plain functions of the models.

A value Blink does not send is published as null, never a made-up default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..blink.models import Camera, DeviceFamily, Network

# Alarm panel states, as Home Assistant names them.
ARMED_AWAY = "armed_away"
DISARMED = "disarmed"
ARMING = "arming"
DISARMING = "disarming"

# Camera models, by family, as users know them.
FAMILY_MODEL_NAMES = {
    DeviceFamily.CAMERA: "Blink Camera",
    DeviceFamily.MINI: "Blink Mini",
    DeviceFamily.DOORBELL: "Blink Video Doorbell",
}
CAMERA_TYPE_NAMES = {
    "white": "Blink Indoor (gen 1)",
    "xt": "Blink XT",
    "xt2": "Blink XT2",
    "catalina": "Blink Outdoor",
    "sedona": "Blink Outdoor 4",
    "owl": "Blink Mini",
    "hawk": "Blink Mini 2",
    "lotus": "Blink Video Doorbell",
}


@dataclass(frozen=True, slots=True)
class CameraActivity:
    """Camera state the bridge tracks beyond the homescreen: motion and snooze."""

    motion: bool = False
    last_motion: datetime | None = None
    last_media_id: int | None = None
    snoozed_until: datetime | None = None


def model_name(camera: Camera) -> str:
    if camera.model and camera.model in CAMERA_TYPE_NAMES:
        return CAMERA_TYPE_NAMES[camera.model]
    return FAMILY_MODEL_NAMES[camera.family]


def network_payload(network: Network, *, transition: str | None = None,
                    snoozed_until: datetime | None = None) -> dict[str, Any]:
    """State of a network; ``transition`` is "arming" or "disarming" while a command runs."""
    if transition is not None:
        state: str | None = transition
    elif network.armed is None:
        state = None
    else:
        state = ARMED_AWAY if network.armed else DISARMED

    module = network.sync_module
    return {
        "id": network.id,
        "name": network.name,
        "armed": network.armed,
        "state": state,
        "time_zone": network.time_zone,
        "snoozed_until": _iso(snoozed_until),
        "sync_module": None if module is None else {
            "id": module.id,
            "name": module.name,
            "status": module.status,
            "online": module.online,
            "serial": module.serial,
            "firmware": module.firmware,
            "wifi_signal": module.wifi_bars,
        },
    }


def camera_payload(camera: Camera, *, activity: CameraActivity | None = None,
                   network_name: str | None = None) -> dict[str, Any]:
    activity = activity or CameraActivity()
    thumbnail = camera.thumbnail
    snoozed = camera.snoozed
    if activity.snoozed_until is not None and snoozed is None:
        snoozed = True
    return {
        "id": camera.id,
        "name": camera.name,
        "network_id": camera.network_id,
        "network_name": network_name,
        "family": camera.family.value,
        "model": model_name(camera),
        "type": camera.model,
        "serial": camera.serial,
        "firmware": camera.firmware,
        "motion_detection": camera.motion_enabled,
        "online": camera.online,
        "status": camera.status,
        "battery": camera.battery_state,
        "battery_low": None if camera.battery_state is None else camera.battery_state != "ok",
        "battery_level": camera.battery_level,
        "temperature": camera.temperature_c,
        "temperature_f": camera.temperature_f,
        "wifi_signal": camera.wifi_bars,
        "sync_signal": camera.sync_signal_bars,
        "motion": activity.motion,
        "last_motion": _iso(activity.last_motion),
        "last_media_id": activity.last_media_id,
        "thumbnail_time": _epoch_iso(thumbnail.timestamp) if thumbnail else None,
        "snoozed": snoozed,
        "snoozed_until": _iso(activity.snoozed_until),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


def _epoch_iso(epoch: int | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat(timespec="seconds")
