"""Parse Blink's JSON into the typed models, tolerating what the real API sends.

The real API mixes int and string ids, sends null or drops keys at will,
reports temperatures of 0 or below as real values and has three shapes for a
thumbnail. Parsers here turn a missing or mistyped value into None instead of
raising KeyError or TypeError. An entry without an id is skipped with one
warning, and a body that lacks a section it must have raises InvalidResponseError.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Iterable
from urllib.parse import parse_qs, urlsplit

from .errors import InvalidResponseError
from .models import (
    Camera,
    CameraConfig,
    CameraSignals,
    Command,
    CommandStatus,
    DeviceFamily,
    Homescreen,
    MediaEvent,
    Network,
    SyncModule,
    Thumbnail,
)

_LOGGER = logging.getLogger(__name__)

# Homescreen section of each family, and the API's device type names in media events.
FAMILY_SECTIONS = {
    "cameras": DeviceFamily.CAMERA,
    "owls": DeviceFamily.MINI,
    "doorbells": DeviceFamily.DOORBELL,
}
MEDIA_DEVICE_FAMILIES = {
    "camera": DeviceFamily.CAMERA,
    "owl": DeviceFamily.MINI,
    "doorbell": DeviceFamily.DOORBELL,
    "lotus": DeviceFamily.DOORBELL,
}


def parse_homescreen(body: Any, *, account_id: int,
                     client_id: int | None = None, user_id: int | None = None) -> Homescreen:
    if not isinstance(body, dict):
        raise InvalidResponseError("Blink's homescreen is not a JSON object")
    for required in ("networks", "cameras"):
        if not isinstance(body.get(required), list):
            raise InvalidResponseError(
                f"Blink's homescreen lacks the '{required}' list; treating the poll as failed"
            )

    skipped: list[str] = []
    sync_modules = {
        module.network_id: module
        for module in _parse_entries(body.get("sync_modules"), "sync_modules", skipped, _sync_module)
    }
    networks = tuple(
        _parse_entries(body["networks"], "networks", skipped,
                       lambda entry, network_id: _network(entry, network_id, sync_modules))
    )
    cameras: list[Camera] = []
    for section, family in FAMILY_SECTIONS.items():
        cameras.extend(_parse_entries(
            body.get(section), section, skipped,
            lambda entry, camera_id, family=family: _camera(entry, camera_id, family, account_id),
        ))
    if skipped:
        _LOGGER.warning("Skipped %d homescreen entries without a usable id: %s",
                        len(skipped), ", ".join(skipped))

    app_updates = body.get("app_updates")
    update_required = isinstance(app_updates, dict) and app_updates.get("update_required") is True
    return Homescreen(networks=networks, cameras=tuple(cameras), client_id=client_id,
                      user_id=user_id, update_required=update_required,
                      skipped_entries=len(skipped))


def parse_thumbnail(value: Any, *, account_id: int, network_id: int, camera_id: int,
                    model: str | None) -> Thumbnail | None:
    """Normalise the three thumbnail shapes into a downloadable path.

    - a full ``/api/v3/...thumbnail.jpg?ts=...&ext=`` URL is used as sent;
    - a bare epoch (int or digit string, as ``/config`` sends it) becomes that URL;
    - a legacy path without extension gets ``.jpg`` appended.
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        timestamp = int(value)
        type_segment = model or "camera"
        path = (f"/api/v3/media/accounts/{account_id}/networks/{network_id}/{type_segment}/"
                f"{camera_id}/thumbnail/thumbnail.jpg?ts={timestamp}&ext=")
        return Thumbnail(path=path, timestamp=timestamp)
    if not isinstance(value, str):
        return None

    parts = urlsplit(value.strip())
    path = parts.path if parts.path.startswith("/") else f"/{parts.path}"
    query = parts.query
    ts_values = parse_qs(query).get("ts")
    timestamp = _to_int(ts_values[0]) if ts_values else None
    if "ext=" in query or path.endswith((".jpg", ".jpeg")):
        return Thumbnail(path=f"{path}?{query}" if query else path, timestamp=timestamp)
    return Thumbnail(path=f"{path}.jpg", timestamp=timestamp)


def parse_command(body: Any, *, default_network_id: int) -> Command | None:
    """Return the command a POST started, or None when Blink finished it at once."""
    if not isinstance(body, dict):
        return None
    command_id = _to_int(body.get("id"))
    if command_id is None:
        return None
    network_id = _to_int(body.get("network_id")) or default_network_id
    name = body.get("command")
    return Command(id=command_id, network_id=network_id, name=name if isinstance(name, str) else None)


def parse_command_status(body: Any) -> CommandStatus:
    if not isinstance(body, dict):
        raise InvalidResponseError("Blink's command status is not a JSON object")
    message = body.get("status_msg") or body.get("message")
    return CommandStatus(
        complete=body.get("complete") is True,
        status_code=_to_int(body.get("status_code")),
        message=message if isinstance(message, str) else None,
        media_id=_to_int(body.get("media_id")),
    )


def parse_media_page_limit(body: Any) -> int | None:
    """Return the page size Blink reports in ``limit``. A shorter page is the last one."""
    limit = _to_int(body.get("limit")) if isinstance(body, dict) else None
    return limit if limit is not None and limit > 0 else None


def parse_media_page(body: Any) -> list[MediaEvent]:
    if not isinstance(body, dict):
        raise InvalidResponseError("Blink's media list is not a JSON object")
    entries = body.get("media")
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise InvalidResponseError("Blink's media list has a 'media' value that is not a list")

    events: list[MediaEvent] = []
    skipped = 0
    for entry in entries:
        event = _media_event(entry)
        if event is None:
            skipped += 1
        else:
            events.append(event)
    if skipped:
        _LOGGER.warning("Skipped %d media entries without an id or creation time", skipped)
    return events


def parse_camera_config(body: Any, *, account_id: int, network_id: int, camera_id: int,
                        model: str | None) -> CameraConfig:
    entry: Any = body
    if isinstance(body, dict) and isinstance(body.get("camera"), list) and body["camera"]:
        entry = body["camera"][0]
    if not isinstance(entry, dict):
        raise InvalidResponseError(f"Blink's config for camera {camera_id} is not a JSON object")

    voltage = _to_float(entry.get("battery_voltage"))
    signals = entry.get("signals") if isinstance(entry.get("signals"), dict) else {}
    temperature = _to_float(entry.get("temperature"))
    if temperature is None:
        temperature = _to_float(signals.get("temp"))
    return CameraConfig(
        camera_id=camera_id,
        name=_to_str(entry.get("name")),
        thumbnail=parse_thumbnail(entry.get("thumbnail"), account_id=account_id,
                                  network_id=network_id, camera_id=camera_id,
                                  model=_to_str(entry.get("type")) or model),
        temperature_f=temperature,
        wifi_dbm=_to_int(entry.get("wifi_strength")),
        battery_voltage=voltage / 100.0 if voltage is not None else None,
        motion_enabled=_to_bool(entry.get("enabled")),
        snooze_till=parse_timestamp(entry.get("snooze_till")),
        raw=entry,
    )


def parse_camera_signals(body: Any) -> CameraSignals:
    if not isinstance(body, dict):
        raise InvalidResponseError("Blink's camera signals are not a JSON object")
    return CameraSignals(
        wifi_bars=_to_int(body.get("wifi")),
        sync_signal_bars=_to_int(body.get("lfr")),
        temperature_f=_to_float(body.get("temp")),
        battery_level=_to_int(body.get("battery")),
    )


def parse_timestamp(value: Any) -> datetime | None:
    """Parse Blink's ISO 8601 variants ("+00:00", "+0000", "Z") into an aware UTC datetime."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace(" ", "T", 1) if "T" not in value else value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        parsed = datetime.fromisoformat(text.replace(" ", ""))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _parse_entries(entries: Any, section: str, skipped: list[str], build: Any) -> Iterable[Any]:
    if not isinstance(entries, list):
        return []
    parsed = []
    for index, entry in enumerate(entries):
        entry_id = _to_int(entry.get("id")) if isinstance(entry, dict) else None
        if entry_id is None:
            skipped.append(f"{section}[{index}]")
            continue
        parsed.append(build(entry, entry_id))
    return parsed


def _sync_module(entry: dict[str, Any], module_id: int) -> SyncModule:
    return SyncModule(
        id=module_id,
        network_id=_to_int(entry.get("network_id")) or 0,
        name=_to_str(entry.get("name")),
        serial=_to_str(entry.get("serial")),
        firmware=_to_str(entry.get("fw_version")),
        model=_to_str(entry.get("type")),
        status=_to_str(entry.get("status")),
        wifi_bars=_to_int(entry.get("wifi_strength")),
    )


def _network(entry: dict[str, Any], network_id: int,
             sync_modules: dict[int, SyncModule]) -> Network:
    return Network(
        id=network_id,
        name=_to_str(entry.get("name")),
        armed=_to_bool(entry.get("armed")),
        time_zone=_to_str(entry.get("time_zone")),
        sync_module=sync_modules.get(network_id),
    )


def _camera(entry: dict[str, Any], camera_id: int, family: DeviceFamily,
            account_id: int) -> Camera:
    network_id = _to_int(entry.get("network_id")) or 0
    model = _to_str(entry.get("type"))
    signals = entry.get("signals") if isinstance(entry.get("signals"), dict) else {}
    remaining = entry.get("snooze_time_remaining")
    return Camera(
        id=camera_id,
        network_id=network_id,
        family=family,
        name=_to_str(entry.get("name")),
        model=model,
        serial=_to_str(entry.get("serial")),
        firmware=_to_str(entry.get("fw_version")),
        motion_enabled=_to_bool(entry.get("enabled")),
        status=_to_str(entry.get("status")),
        battery_state=_to_str(entry.get("battery")),
        battery_level=_to_int(signals.get("battery")),
        temperature_f=_to_float(signals.get("temp")),
        wifi_bars=_to_int(signals.get("wifi")),
        sync_signal_bars=_to_int(signals.get("lfr")),
        thumbnail=parse_thumbnail(entry.get("thumbnail"), account_id=account_id,
                                  network_id=network_id, camera_id=camera_id, model=model),
        snoozed=_to_bool(entry.get("snooze")),
        snooze_time_remaining=_to_int(remaining),
    )


def _media_event(entry: Any) -> MediaEvent | None:
    if not isinstance(entry, dict):
        return None
    media_id = _to_int(entry.get("id"))
    created_at = parse_timestamp(entry.get("created_at"))
    if media_id is None or created_at is None:
        return None
    device = _to_str(entry.get("device"))
    return MediaEvent(
        id=media_id,
        created_at=created_at,
        updated_at=parse_timestamp(entry.get("updated_at")),
        deleted=entry.get("deleted") is True,
        family=MEDIA_DEVICE_FAMILIES.get(device) if device else None,
        camera_id=_to_int(entry.get("device_id")),
        camera_name=_to_str(entry.get("device_name")),
        network_id=_to_int(entry.get("network_id")),
        media_type=_to_str(entry.get("type")),
        source=_to_str(entry.get("source")),
        clip_path=_to_str(entry.get("media")),
        thumbnail_path=_to_str(entry.get("thumbnail")),
    )


def _to_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    return None


def _to_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _to_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in (0, 1) and isinstance(value, int):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _to_str(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None
