"""Optional clip archive: download new clips with readable names, atomically, with retention."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

from ..blink import errors as blink_errors
from ..blink.client import BlinkClient
from ..blink.models import MediaEvent
from ..files import write_atomically

_LOGGER = logging.getLogger(__name__)

ARCHIVE_FILE_MODE = 0o640


@dataclass(frozen=True, slots=True)
class SavedClip:
    clip: Path
    size: int
    thumbnail: Path | None


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    max_age_seconds: float
    max_total_bytes: int


def clip_stem(event: MediaEvent, camera_name: str | None) -> str:
    """Build a stable, readable file name from the camera, the UTC time and the media id."""
    name = slugify(camera_name or event.camera_name or f"camera-{event.camera_id}")
    stamp = event.created_at.strftime("%Y-%m-%dT%H-%M-%SZ")
    return f"{name}_{event.camera_id}/{stamp}_{event.id}"


def slugify(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return slug or "camera"


class ClipArchive:
    """Saves clips and their thumbnails under ``media.download_dir``.

    Downloads run one at a time, ``spacing`` seconds apart, because bulk
    downloads have got Blink accounts suspended.
    """

    def __init__(self, client: BlinkClient, root: Path, *, spacing: float,
                 retention: RetentionPolicy) -> None:
        self._client = client
        self.root = root
        self._spacing = spacing
        self._retention = retention
        self._lock = asyncio.Lock()
        self._last_download = 0.0

    async def save(self, event: MediaEvent, camera_name: str | None) -> SavedClip | None:
        if not event.clip_path:
            return None
        stem = clip_stem(event, camera_name)
        clip_path = self.root / f"{stem}.mp4"
        thumbnail_path = self.root / f"{stem}.jpg"
        async with self._lock:
            if clip_path.exists():
                return SavedClip(clip_path, clip_path.stat().st_size,
                                 thumbnail_path if thumbnail_path.exists() else None)
            await self._wait_spacing()
            body = await self._client.download(event.clip_path)
            if not body:
                raise blink_errors.TransientError(f"clip {event.id} downloaded empty")
            write_atomically(clip_path, body, mode=ARCHIVE_FILE_MODE)

            saved_thumbnail: Path | None = None
            if event.thumbnail_path:
                await self._wait_spacing()
                path = event.thumbnail_path
                if not path.split("?")[0].endswith((".jpg", ".jpeg")):
                    path += ".jpg"
                try:
                    write_atomically(thumbnail_path, await self._client.download(path),
                                     mode=ARCHIVE_FILE_MODE)
                    saved_thumbnail = thumbnail_path
                except blink_errors.BlinkError as err:
                    _LOGGER.warning("Saved clip %s without its thumbnail: %s", event.id, err)
            self.enforce_retention()
        _LOGGER.info("Saved clip %s of camera %s to %s (%d bytes)", event.id, event.camera_id,
                     clip_path, len(body))
        return SavedClip(clip_path, len(body), saved_thumbnail)

    def enforce_retention(self, now: float | None = None) -> list[Path]:
        """Delete files older than the maximum age, then the oldest until under the size limit."""
        current = time.time() if now is None else now
        files = sorted((p for p in self.root.rglob("*") if p.is_file() and not p.name.startswith(".")),
                       key=lambda p: p.stat().st_mtime)
        removed: list[Path] = []
        kept: list[tuple[Path, int]] = []
        for path in files:
            stat = path.stat()
            if current - stat.st_mtime > self._retention.max_age_seconds:
                path.unlink(missing_ok=True)
                removed.append(path)
            else:
                kept.append((path, stat.st_size))
        total = sum(size for _path, size in kept)
        for path, size in kept:
            if total <= self._retention.max_total_bytes:
                break
            path.unlink(missing_ok=True)
            removed.append(path)
            total -= size
        for path in removed:
            _LOGGER.info("Retention removed %s", path)
        return removed

    async def _wait_spacing(self) -> None:
        wait = self._last_download + self._spacing - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_download = time.monotonic()
