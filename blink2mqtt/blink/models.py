"""Typed views of Blink's account data, independent of how they are published."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class DeviceFamily(StrEnum):
    """Camera families; each uses its own REST paths."""

    CAMERA = "camera"      # battery camera on a sync module (Blink's "default" type)
    MINI = "mini"          # Blink Mini, "owl" in the API
    DOORBELL = "doorbell"  # Blink Video Doorbell, "lotus"


@dataclass(frozen=True, slots=True)
class DeviceRef:
    """Family, network and id of a camera, which its REST paths are built from."""

    family: DeviceFamily
    network_id: int
    camera_id: int


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """Reference to a camera's current picture.

    ``path`` is relative to the tier host and ready to download. ``version``
    changes whenever Blink has a new picture, so comparing it tells whether
    the image must be downloaded again.
    """

    path: str
    timestamp: int | None

    @property
    def version(self) -> str:
        return self.path


@dataclass(frozen=True, slots=True)
class SyncModule:
    id: int
    network_id: int
    name: str | None
    serial: str | None
    firmware: str | None
    model: str | None
    status: str | None
    wifi_bars: int | None

    @property
    def online(self) -> bool | None:
        if self.status == "online":
            return True
        if self.status == "offline":
            return False
        return None


@dataclass(frozen=True, slots=True)
class Network:
    id: int
    name: str | None
    armed: bool | None
    time_zone: str | None
    sync_module: SyncModule | None


@dataclass(frozen=True, slots=True)
class Camera:
    id: int
    network_id: int
    family: DeviceFamily
    name: str | None
    model: str | None
    serial: str | None
    firmware: str | None
    motion_enabled: bool | None
    status: str | None
    battery_state: str | None
    battery_level: int | None
    temperature_f: float | None
    wifi_bars: int | None
    sync_signal_bars: int | None
    thumbnail: Thumbnail | None
    snoozed: bool | None
    snooze_time_remaining: int | None

    @property
    def online(self) -> bool | None:
        """True or False when Blink reports it; None for statuses such as "done"."""
        if self.status == "offline":
            return False
        if self.status in ("online", "done"):
            return True
        return None

    @property
    def ref(self) -> DeviceRef:
        return DeviceRef(family=self.family, network_id=self.network_id, camera_id=self.id)

    @property
    def temperature_c(self) -> float | None:
        if self.temperature_f is None:
            return None
        return round((self.temperature_f - 32.0) * 5.0 / 9.0, 1)


@dataclass(frozen=True, slots=True)
class Homescreen:
    """One consistent reading of the account's networks and cameras."""

    networks: tuple[Network, ...]
    cameras: tuple[Camera, ...]
    client_id: int | None = None
    user_id: int | None = None
    update_required: bool = False
    skipped_entries: int = 0

    def network(self, network_id: int) -> Network | None:
        return next((n for n in self.networks if n.id == network_id), None)

    def camera(self, camera_id: int) -> Camera | None:
        return next((c for c in self.cameras if c.id == camera_id), None)


@dataclass(frozen=True, slots=True)
class Command:
    """A command Blink accepted; its completion is polled by id on its network."""

    id: int
    network_id: int
    name: str | None


@dataclass(frozen=True, slots=True)
class CommandStatus:
    complete: bool
    status_code: int | None
    message: str | None
    media_id: int | None


@dataclass(frozen=True, slots=True)
class MediaEvent:
    """One entry of ``media/changed``: a clip with its thumbnail."""

    id: int
    created_at: datetime
    updated_at: datetime | None
    deleted: bool
    family: DeviceFamily | None
    camera_id: int | None
    camera_name: str | None
    network_id: int | None
    media_type: str | None
    source: str | None
    clip_path: str | None
    thumbnail_path: str | None


@dataclass(frozen=True, slots=True)
class CameraConfig:
    """Parts of ``/camera/{id}/config`` that the homescreen lacks."""

    camera_id: int
    name: str | None
    thumbnail: Thumbnail | None
    temperature_f: float | None
    wifi_dbm: int | None
    battery_voltage: float | None
    motion_enabled: bool | None
    snooze_till: datetime | None
    raw: dict[str, object]


@dataclass(frozen=True, slots=True)
class CameraSignals:
    wifi_bars: int | None
    sync_signal_bars: int | None
    temperature_f: float | None
    battery_level: int | None
