"""Records of the simulated Blink account: networks, sync modules, devices, media, programs.

Instances are mutated only while the owning ``AccountState`` lock is held.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

DeviceFamily = Literal["camera", "mini", "doorbell"]
DEVICE_FAMILIES: tuple[DeviceFamily, ...] = ("camera", "mini", "doorbell")

# How a device's homescreen `thumbnail` field is shaped:
# "v3" is /api/v3/media/.../thumbnail/thumbnail.jpg?ts=<epoch>&ext=,
# "legacy" is /media/production/.../camera/<id>/clip_<name> without extension,
# "owl" is /media/<tier>/.../owl/<id>/thumbnail/fw_<name> without extension.
ThumbnailStyle = Literal["v3", "legacy", "owl"]
ThumbnailPayload = Literal["jpeg", "empty", "not_image", "oversize"]
THUMBNAIL_PAYLOADS: tuple[ThumbnailPayload, ...] = ("jpeg", "empty", "not_image", "oversize")

# Product type segment of the v3 thumbnail URL for devices without a camera `type`.
DOORBELL_PRODUCT_TYPE = "lotus"


@dataclass
class SyncModule:
    id: int
    network_id: int
    name: str
    serial: str
    online: bool = True
    fw_version: str = "4.4.8"
    type: str = "sm2"
    subtype: str = "billy"
    wifi_bars: int = 5
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    updated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))


@dataclass
class Network:
    id: int
    name: str
    armed: bool = False
    time_zone: str = "America/Chicago"
    dst: bool = True
    sync_module: SyncModule | None = None
    snooze_until: dt.datetime | None = None
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    updated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))


@dataclass
class Device:
    """A camera of any family: classic sync-module camera, Mini (owl) or doorbell (lotus)."""

    id: int
    family: DeviceFamily
    network_id: int
    name: str
    type: str
    serial: str | None
    fw_version: str
    motion_enabled: bool = True
    online: bool = True
    battery_ok: bool = True
    # signals.battery in homescreen, a small integer level (1 = low, 3 = full).
    battery_level: int = 3
    temperature_f: int = 70
    wifi_bars: int = 4
    lfr_bars: int = 5
    thumbnail_ts: int = 0
    thumbnail_style: ThumbnailStyle = "v3"
    thumbnail_frozen: bool = False
    thumbnail_payload: ThumbnailPayload = "jpeg"
    snooze_until: dt.datetime | None = None
    illuminator_enable: int = 2
    motion_sensitivity: int = 5
    video_length: int = 30
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    updated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))


@dataclass
class MediaEntry:
    id: int
    device_id: int
    device_family: DeviceFamily
    device_name: str
    network_id: int
    network_name: str
    created_at: dt.datetime
    updated_at: dt.datetime
    source: str = "pir"
    deleted: bool = False
    watched: bool = False
    time_zone: str = "America/Chicago"
    # Name segment shared by the clip path (<name>.mp4) and the thumbnail path (<name>).
    file_name: str = ""


@dataclass
class Program:
    """A network arm/disarm schedule as GET /api/v1/networks/{N}/programs lists it."""

    id: int
    network_id: int
    name: str
    enabled: bool = False
    schedule: list[dict[str, object]] = field(default_factory=list)
    format: str = "v1"


@dataclass
class AccountIdentity:
    account_id: int
    tier: str
    user_id: int
    email: str
    password: str
    pin: str
    phone_masked: str = "+1xxxxxxx89"
    time_zone: str = "America/Chicago"
