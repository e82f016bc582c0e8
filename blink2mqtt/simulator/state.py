"""The simulated account and every change to it, guarded by one re-entrant lock.

Control methods (add_camera, trigger_motion, ...) take the lock themselves. REST
handlers hold ``state.lock`` around their whole read-modify-render step and may then
use the unlocked helpers. Invalid arguments raise ValueError, unknown ids raise
UnknownIdError; both messages name the offending value.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import threading
from typing import Any

from blink2mqtt.simulator.commands import CommandBook, CommandTiming
from blink2mqtt.simulator.model import (
    DEVICE_FAMILIES,
    THUMBNAIL_PAYLOADS,
    AccountIdentity,
    Device,
    MediaEntry,
    Network,
    Program,
    SyncModule,
)
from blink2mqtt.simulator.timestamps import parse_moment, utc_now

# Device ids handed out by add_network/add_camera start here, above the demo ids.
FIRST_GENERATED_ID = 100_001
FIRST_MEDIA_ID = 1_700_000_001
MAX_SNOOZE_MINUTES = 1440

DEFAULT_NOTIFICATION_FLAGS: dict[str, bool] = {
    "low_battery": True,
    "camera_offline": True,
    "camera_usage": True,
    "scheduling": True,
    "motion": True,
    "sync_module_offline": True,
    "temperature": True,
    "doorbell": True,
    "wifi": True,
    "lfr": True,
    "bandwidth": True,
    "battery_dead": True,
    "local_storage": True,
    "accessory_connected": True,
    "accessory_disconnected": True,
    "accessory_low_battery": True,
    "general": True,
    "cv_motion": True,
}

_DEFAULT_TYPES = {"camera": "catalina", "mini": "owl", "doorbell": "lotus"}
_DEFAULT_FIRMWARE = {"camera": "10.61", "mini": "9.77", "doorbell": "12.81"}
_SERIAL_PREFIX = {"camera": "G8T1C", "mini": "G8T1M"}


class UnknownIdError(LookupError):
    """A network, device, media or program id that the account does not contain."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown id"


def _require_bool(field_name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"invalid {field_name} {value!r}: expected true or false")
    return value


def _require_int(field_name: str, value: object, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ValueError(f"invalid {field_name} {value!r}: expected an integer from {minimum} to {maximum}")
    return value


def _require_name(field_name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"invalid {field_name} {value!r}: expected a non-empty string")
    return value


def _epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


class AccountState:
    """Networks, devices, media, programs, settings and commands of one Blink account."""

    def __init__(self, identity: AccountIdentity, timing: CommandTiming) -> None:
        self.lock = threading.RLock()
        self.identity = identity
        self.networks: dict[int, Network] = {}
        self.devices: dict[int, Device] = {}
        self.media: dict[int, MediaEntry] = {}
        self.media_by_file_name: dict[str, MediaEntry] = {}
        self.programs: dict[int, Program] = {}
        self.notification_flags = dict(DEFAULT_NOTIFICATION_FLAGS)
        self.video_options: dict[str, Any] = {"auto_delete_days": 14, "storage": 0}
        # Options each Blink client stored through the client update endpoint, by client id.
        self.client_options: dict[int, dict[str, Any]] = {}
        self.commands = CommandBook(identity.account_id, timing)
        # None accepts any snooze from 1 to MAX_SNOOZE_MINUTES minutes.
        self.snooze_allowed_minutes: tuple[int, ...] | None = None
        self._ids = itertools.count(FIRST_GENERATED_ID)
        self._media_ids = itertools.count(FIRST_MEDIA_ID)

    # Lookups (callers hold the lock) ------------------------------------------------

    def network(self, network_id: int) -> Network:
        network = self.networks.get(network_id)
        if network is None:
            raise UnknownIdError(f"network {network_id} not found")
        return network

    def device(self, device_id: int) -> Device:
        device = self.devices.get(device_id)
        if device is None:
            raise UnknownIdError(f"device {device_id} not found")
        return device

    def devices_on(self, network_id: int) -> list[Device]:
        return [device for device in self.devices.values() if device.network_id == network_id]

    def next_id(self) -> int:
        used = (
            set(self.networks)
            | set(self.devices)
            | {n.sync_module.id for n in self.networks.values() if n.sync_module is not None}
        )
        candidate = next(self._ids)
        while candidate in used:
            candidate = next(self._ids)
        return candidate

    # Building the account -------------------------------------------------------------

    def insert_network(self, network: Network) -> Network:
        with self.lock:
            if network.id in self.networks or network.id in self.devices:
                raise ValueError(f"id {network.id} is already in use")
            self.networks[network.id] = network
            return network

    def insert_device(self, device: Device) -> Device:
        with self.lock:
            network = self.network(device.network_id)
            if device.id in self.devices or device.id in self.networks:
                raise ValueError(f"id {device.id} is already in use")
            if device.family == "camera" and network.sync_module is None:
                raise ValueError(
                    f"network {network.id} has no sync module: classic cameras need one, add a mini or doorbell instead"
                )
            self.devices[device.id] = device
            return device

    def insert_media(self, entry: MediaEntry) -> MediaEntry:
        with self.lock:
            if not entry.file_name:
                entry.file_name = f"{entry.device_name.lower().replace(' ', '_')}_{entry.id}"
            self.media[entry.id] = entry
            self.media_by_file_name[entry.file_name] = entry
            return entry

    def add_network(self, name: str, with_sync_module: bool = True) -> int:
        _require_name("name", name)
        _require_bool("with_sync_module", with_sync_module)
        with self.lock:
            network = Network(id=self.next_id(), name=name, time_zone=self.identity.time_zone)
            self.networks[network.id] = network
            if with_sync_module:
                module_id = self.next_id()
                network.sync_module = SyncModule(
                    id=module_id, network_id=network.id, name=f"{name} Sync Module", serial=f"G8T1S{module_id:011d}"
                )
            return network.id

    def add_camera(self, network_id: int, family: str, name: str, **fields: Any) -> int:
        if family not in DEVICE_FAMILIES:
            raise ValueError(f"invalid family {family!r}: expected one of {', '.join(DEVICE_FAMILIES)}")
        _require_name("name", name)
        with self.lock:
            self.network(network_id)
            device_id = self.next_id()
            device = Device(
                id=device_id,
                family=family,
                network_id=network_id,
                name=name,
                type=_DEFAULT_TYPES[family],
                serial=f"{_SERIAL_PREFIX[family]}{device_id:011d}" if family in _SERIAL_PREFIX else None,
                fw_version=_DEFAULT_FIRMWARE[family],
                thumbnail_style="owl" if family == "mini" else "v3",
                thumbnail_ts=_epoch(utc_now()) - 600,
            )
            type_override = fields.pop("type", None)
            style_override = fields.pop("thumbnail_style", None)
            if type_override is not None:
                device.type = _require_name("type", type_override)
            if style_override is not None:
                if style_override not in ("v3", "legacy", "owl"):
                    raise ValueError(f"invalid thumbnail_style {style_override!r}: expected v3, legacy or owl")
                device.thumbnail_style = style_override
            self._apply_device_fields(device, fields)
            self.insert_device(device)
            return device_id

    # Control-API mutations ------------------------------------------------------------

    def _apply_device_fields(self, device: Device, fields: dict[str, Any]) -> None:
        """Validate all fields first, then apply them, so a bad field changes nothing."""
        changes: dict[str, Any] = {}
        for key, value in fields.items():
            if key == "name":
                changes["name"] = _require_name(key, value)
            elif key == "battery":
                if value not in ("ok", "low"):
                    raise ValueError(f"invalid battery {value!r}: expected 'ok' or 'low'")
                changes["battery_ok"] = value == "ok"
            elif key == "battery_level":
                changes["battery_level"] = _require_int(key, value, 0, 5)
            elif key == "temperature_f":
                changes["temperature_f"] = _require_int(key, value, -60, 200)
            elif key == "wifi_bars":
                changes["wifi_bars"] = _require_int(key, value, 0, 5)
            elif key == "online":
                changes["online"] = _require_bool(key, value)
            elif key == "motion_enabled":
                changes["motion_enabled"] = _require_bool(key, value)
            else:
                raise ValueError(
                    f"unknown camera field {key!r}: expected name, battery, battery_level, temperature_f, "
                    "wifi_bars, online or motion_enabled"
                )
        for attribute, value in changes.items():
            setattr(device, attribute, value)
        device.updated_at = utc_now()

    def update_camera(self, camera_id: int, **fields: Any) -> None:
        with self.lock:
            self._apply_device_fields(self.device(camera_id), fields)

    def update_network(self, network_id: int, **fields: Any) -> None:
        with self.lock:
            network = self.network(network_id)
            changes: dict[str, Any] = {}
            for key, value in fields.items():
                if key == "name":
                    changes["name"] = _require_name(key, value)
                elif key == "armed":
                    changes["armed"] = _require_bool(key, value)
                elif key == "sync_module_online":
                    if network.sync_module is None:
                        raise ValueError(
                            f"network {network_id} has no sync module, so sync_module_online cannot be set"
                        )
                    changes["sync_module_online"] = _require_bool(key, value)
                else:
                    raise ValueError(f"unknown network field {key!r}: expected name, armed or sync_module_online")
            now = utc_now()
            for key, value in changes.items():
                if key == "sync_module_online" and network.sync_module is not None:
                    network.sync_module.online = value
                    network.sync_module.updated_at = now
                else:
                    setattr(network, key, value)
            network.updated_at = now

    def remove_device(self, device_id: int) -> None:
        with self.lock:
            if device_id in self.devices:
                del self.devices[device_id]
                return
            for network in self.networks.values():
                if network.sync_module is not None and network.sync_module.id == device_id:
                    if any(device.family == "camera" for device in self.devices_on(network.id)):
                        raise ValueError(
                            f"sync module {device_id} still has classic cameras on network {network.id}: remove them first"
                        )
                    network.sync_module = None
                    return
            raise UnknownIdError(f"device {device_id} not found")

    def remove_network(self, network_id: int) -> None:
        with self.lock:
            self.network(network_id)
            for device in self.devices_on(network_id):
                del self.devices[device.id]
            for program_id in [p.id for p in self.programs.values() if p.network_id == network_id]:
                del self.programs[program_id]
            self.commands.forget_network(network_id)
            del self.networks[network_id]

    def trigger_motion(self, camera_id: int, created_at: dt.datetime | str | None = None) -> int:
        created = utc_now() if created_at is None else parse_moment(created_at)
        with self.lock:
            entry = self.add_media(self.device(camera_id), created, source="pir")
            return entry.id

    def set_thumbnail_frozen(self, camera_id: int, frozen: bool) -> None:
        _require_bool("frozen", frozen)
        with self.lock:
            self.device(camera_id).thumbnail_frozen = frozen

    def set_thumbnail_payload(self, camera_id: int, kind: str) -> None:
        if kind not in THUMBNAIL_PAYLOADS:
            raise ValueError(f"invalid thumbnail payload {kind!r}: expected one of {', '.join(THUMBNAIL_PAYLOADS)}")
        with self.lock:
            self.device(camera_id).thumbnail_payload = kind

    def set_snooze_allowed(self, minutes: list[int] | tuple[int, ...] | None) -> None:
        if minutes is not None:
            if not minutes:
                raise ValueError("allowed snooze minutes must not be empty: pass None to accept any value")
            minutes = tuple(_require_int("snooze minutes", value, 1, MAX_SNOOZE_MINUTES) for value in minutes)
        with self.lock:
            self.snooze_allowed_minutes = minutes

    # Effects shared by REST handlers and commands (callers hold the lock) --------------

    def add_media(self, device: Device, created_at: dt.datetime, source: str) -> MediaEntry:
        network = self.network(device.network_id)
        media_id = next(self._media_ids)
        entry = MediaEntry(
            id=media_id,
            device_id=device.id,
            device_family=device.family,
            device_name=device.name,
            network_id=network.id,
            network_name=network.name,
            created_at=created_at,
            updated_at=utc_now(),
            source=source,
            time_zone=network.time_zone,
        )
        return self.insert_media(entry)

    def delete_media(self, media_ids: list[int]) -> int:
        """Mark entries deleted and bump updated_at so media/changed reports them again."""
        now = utc_now()
        deleted = 0
        for media_id in media_ids:
            entry = self.media.get(media_id)
            if entry is not None and not entry.deleted:
                entry.deleted = True
                entry.updated_at = now
                deleted += 1
        return deleted

    def take_thumbnail(self, device: Device) -> None:
        if device.thumbnail_frozen:
            return
        # Strictly increasing so that two snapshots in one second still change the URL.
        device.thumbnail_ts = max(_epoch(utc_now()), device.thumbnail_ts + 1)
        device.updated_at = utc_now()

    def snooze_error(self, minutes: object) -> str | None:
        """Return the Blink error message for an unacceptable snooze length, else None."""
        if isinstance(minutes, bool) or not isinstance(minutes, int):
            return f"Invalid snooze_time {minutes!r}: expected whole minutes"
        if self.snooze_allowed_minutes is None:
            if not 1 <= minutes <= MAX_SNOOZE_MINUTES:
                return f"Invalid snooze_time {minutes}: expected 1 to {MAX_SNOOZE_MINUTES} minutes"
            return None
        if minutes not in self.snooze_allowed_minutes:
            allowed = ", ".join(str(value) for value in self.snooze_allowed_minutes)
            return f"Invalid snooze_time {minutes}: allowed values are {allowed} minutes"
        return None


def thumbnail_token(device_id: int, thumbnail_ts: int) -> str:
    """Return the random-looking 8-character name part of legacy and owl thumbnail paths."""
    digest = hashlib.sha256(f"{device_id}:{thumbnail_ts}".encode()).hexdigest()
    return digest[:8]
