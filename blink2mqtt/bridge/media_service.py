"""Motion events, camera images, snapshots, clips and snooze over MQTT.

The bridge calls ``after_poll`` once per successful homescreen poll. This
reads ``media/changed`` once for the whole account, turns new clips into
motion and ``clip_ready`` events, and refreshes the images whose thumbnail
changed. Snapshot, record and snooze commands plug into the command runner.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ..blink import errors as blink_errors
from ..blink.client import BlinkClient
from ..blink.models import Camera, Homescreen, MediaEvent
from .announce import Announcer
from .clips import ClipArchive, RetentionPolicy
from .command_runner import CommandRefused, CommandRunner, describe_failure
from .commands import CommandName, CommandRequest, Reason
from .images import ImagePublisher
from .inventory import Inventory
from .lifecycle import CommandLifecycle
from .motion import MediaCursorStore, MediaTracker, utc_now
from .payloads import CameraActivity
from .publisher import MessageSink, RetainedPublisher
from .topics import DeviceKind, Topics

_LOGGER = logging.getLogger(__name__)

MOTION = "motion"
CLIP_READY = "clip_ready"
# A recorded clip shows up in the media list some time after its command.
PENDING_RECORD_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class MediaSettings:
    motion_hold_time: float
    motion_overlap: float
    max_image_bytes: int
    snapshot_min_interval: float
    snapshot_wait: float
    seen_file: Path
    download_dir: Path | None
    download_spacing: float
    retention_days: float
    retention_max_mb: float

    @classmethod
    def from_config(cls, media: dict[str, Any]) -> MediaSettings:
        download_dir = media.get("download_dir")
        return cls(
            motion_hold_time=media["motion_hold_time"],
            motion_overlap=media["motion_overlap"],
            max_image_bytes=media["max_image_bytes"],
            snapshot_min_interval=media["snapshot_min_interval"],
            snapshot_wait=media["snapshot_wait"],
            seen_file=Path(media["seen_file"]).expanduser(),
            download_dir=Path(download_dir).expanduser() if download_dir else None,
            download_spacing=media["download_spacing"],
            retention_days=media["retention_days"],
            retention_max_mb=media["retention_max_mb"],
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """Final outcome of a snapshot, shared with requests coalesced into it."""

    details: dict[str, object] | None = None
    failure: tuple[Reason, str, dict[str, object]] | None = None


class MediaService:
    def __init__(self, *, client: BlinkClient, settings: MediaSettings, topics: Topics,
                 sink: MessageSink, publisher: RetainedPublisher, inventory: Inventory,
                 announcer: Announcer, runner: CommandRunner, read_back: Any) -> None:
        self._client = client
        self._settings = settings
        self._topics = topics
        self._sink = sink
        self._inventory = inventory
        self._announcer = announcer
        self._runner = runner
        self._read_back = read_back
        self.tracker = MediaTracker(MediaCursorStore(settings.seen_file),
                                    overlap=timedelta(seconds=settings.motion_overlap))
        self.images = ImagePublisher(
            client, lambda camera_id, body: publisher.publish(topics.image(camera_id), body),
            max_bytes=settings.max_image_bytes)
        self.archive = None if settings.download_dir is None else ClipArchive(
            client, settings.download_dir, spacing=settings.download_spacing,
            retention=RetentionPolicy(max_age_seconds=settings.retention_days * 86400,
                                      max_total_bytes=int(settings.retention_max_mb * 1024 * 1024)))
        self._motion_timers: dict[int, asyncio.TimerHandle] = {}
        self._snapshots_in_flight: dict[int, asyncio.Future[Outcome]] = {}
        self._last_snapshot: dict[int, float] = {}
        self._pending_records: dict[int, float] = {}
        self._recorded_media_ids: set[int] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

        runner.gates[CommandName.SNAPSHOT] = self._admit_snapshot
        runner.handlers[CommandName.SNAPSHOT] = self._snapshot
        runner.handlers[CommandName.RECORD] = self._record
        runner.handlers[CommandName.SNOOZE] = self._snooze

    # Poll hook --------------------------------------------------------------

    async def after_poll(self, homescreen: Homescreen) -> None:
        for camera in homescreen.cameras:
            if self.images.needs_update(camera):
                try:
                    await self.images.update(camera)
                except blink_errors.BlinkError as err:
                    _LOGGER.warning("Image of camera %s not updated, retrying next poll: %s",
                                    camera.id, err)
        await self._read_media()

    async def _read_media(self) -> None:
        fetched_at = utc_now()
        since = self.tracker.since(fetched_at)
        try:
            events = await self._client.get_media_changed(since)
        except blink_errors.BlinkError as err:
            _LOGGER.warning("Media list not read, motion waits for the next poll: %s", err)
            return
        for event in self.tracker.accept(events, fetched_at=fetched_at):
            self._on_new_clip(event)

    def _on_new_clip(self, event: MediaEvent) -> None:
        camera_id = event.camera_id
        if camera_id is None:
            _LOGGER.warning("Media %s names no camera; ignored", event.id)
            return
        camera = self._inventory.cameras.get(camera_id)
        if camera is None:
            _LOGGER.warning("Media %s belongs to camera %s, which is not in the account; ignored",
                            event.id, camera_id)
            return

        recorded = self._is_recorded_clip(event)
        if not recorded:
            self._start_motion(camera, event)
        if self.archive is None:
            self._publish_event(camera, CLIP_READY, event, recorded=recorded)
        else:
            self._spawn(self._archive_clip(camera, event, recorded), f"archive-{event.id}")

    def _is_recorded_clip(self, event: MediaEvent) -> bool:
        if event.id in self._recorded_media_ids:
            self._recorded_media_ids.discard(event.id)
            return True
        requested = self._pending_records.get(event.camera_id or -1)
        if requested is not None and event.source != "pir":
            del self._pending_records[event.camera_id or -1]
            return time.monotonic() - requested < PENDING_RECORD_SECONDS
        return False

    # Motion -----------------------------------------------------------------

    def _start_motion(self, camera: Camera, event: MediaEvent) -> None:
        activity = self._announcer.activity.get(camera.id) or CameraActivity()
        last_motion = event.created_at if activity.last_motion is None \
            else max(activity.last_motion, event.created_at)
        self._announcer.activity[camera.id] = replace(
            activity, motion=True, last_motion=last_motion, last_media_id=event.id)
        self._announcer.publish_camera(camera)
        self._publish_event(camera, MOTION, event)
        _LOGGER.info("Motion on camera %s (media %s)", camera.id, event.id)

        previous = self._motion_timers.pop(camera.id, None)
        if previous is not None:
            previous.cancel()
        loop = asyncio.get_running_loop()
        self._motion_timers[camera.id] = loop.call_later(
            self._settings.motion_hold_time, self._end_motion, camera.id)

    def _end_motion(self, camera_id: int) -> None:
        self._motion_timers.pop(camera_id, None)
        activity = self._announcer.activity.get(camera_id)
        camera = self._inventory.cameras.get(camera_id)
        if activity is None or camera is None:
            return
        self._announcer.activity[camera_id] = replace(activity, motion=False)
        self._announcer.publish_camera(camera)

    def _publish_event(self, camera: Camera, event_type: str, event: MediaEvent,
                       **extra: object) -> None:
        payload: dict[str, object] = {
            "event_type": event_type,
            "camera_id": camera.id,
            "camera_name": camera.name,
            "network_id": camera.network_id,
            "media_id": event.id,
            "time": event.created_at.isoformat(timespec="seconds"),
            "source": event.source,
            "clip": event.clip_path,
            "thumbnail": event.thumbnail_path,
        }
        payload.update(extra)
        # Events are not retained: an old event replayed to a new subscriber would look new.
        self._sink.publish(self._topics.event(camera.id), payload)

    async def _archive_clip(self, camera: Camera, event: MediaEvent, recorded: bool) -> None:
        assert self.archive is not None
        try:
            saved = await self.archive.save(event, camera.name)
        except (blink_errors.BlinkError, OSError) as err:
            _LOGGER.warning("Clip %s of camera %s not saved: %s", event.id, camera.id, err)
            self._publish_event(camera, CLIP_READY, event, recorded=recorded, file=None,
                                error=str(err))
            return
        if saved is None:
            return
        self._publish_event(camera, CLIP_READY, event, recorded=recorded, file=str(saved.clip),
                            size=saved.size,
                            thumbnail_file=str(saved.thumbnail) if saved.thumbnail else None)

    # Snapshot ---------------------------------------------------------------

    def _admit_snapshot(self, request: CommandRequest, lifecycle: CommandLifecycle) -> bool:
        """Coalesce a snapshot into one in flight, or reject it inside the minimum interval."""
        camera_id = request.device_id
        in_flight = self._snapshots_in_flight.get(camera_id)
        if in_flight is not None:
            lifecycle.accepted(queued=True, coalesced=True)
            self._spawn(self._answer_from(in_flight, lifecycle), f"coalesced-{camera_id}")
            return True

        last = self._last_snapshot.get(camera_id)
        interval = self._settings.snapshot_min_interval
        if last is not None and time.monotonic() - last < interval:
            wait = interval - (time.monotonic() - last)
            lifecycle.error(Reason.RATE_LIMITED,
                            f"camera {camera_id} took a snapshot {interval - wait:.1f} s ago; "
                            f"snapshots are at least {interval:g} s apart "
                            "(media.snapshot_min_interval)",
                            retry_after=round(wait, 1))
            return True

        self._snapshots_in_flight[camera_id] = asyncio.get_running_loop().create_future()
        return False

    async def _answer_from(self, future: asyncio.Future[Outcome],
                           lifecycle: CommandLifecycle) -> None:
        outcome = await asyncio.shield(future)
        if outcome.failure is None:
            lifecycle.ok(**(outcome.details or {}), coalesced=True)
        else:
            reason, message, extra = outcome.failure
            lifecycle.error(reason, message, coalesced=True, **extra)

    async def _snapshot(self, request: CommandRequest,
                        lifecycle: CommandLifecycle) -> dict[str, object] | None:
        camera_id = request.device_id
        future = self._snapshots_in_flight.get(camera_id)
        try:
            details = await self._take_snapshot(request, lifecycle)
        except BaseException as err:
            if future is not None and not future.done():
                future.set_result(Outcome(failure=_failure_of(err)))
            raise
        else:
            if future is not None and not future.done():
                future.set_result(Outcome(details=details))
            return details
        finally:
            self._last_snapshot[camera_id] = time.monotonic()
            self._snapshots_in_flight.pop(camera_id, None)

    async def _take_snapshot(self, request: CommandRequest,
                             lifecycle: CommandLifecycle) -> dict[str, object]:
        camera = self._require_camera(request.device_id)
        if camera.online is False:
            raise CommandRefused(Reason.OFFLINE,
                                 f"camera {camera.id} is offline at Blink; it cannot take a "
                                 "snapshot until it is back online")
        before = camera.thumbnail.version if camera.thumbnail else None

        command = await self._runner.start_blink_command(request, camera.network_id)
        await self._runner.follow(command, lifecycle)

        changed = await self._wait_for_new_thumbnail(camera.id, before)
        if changed is None:
            raise CommandRefused(
                Reason.UNCHANGED,
                f"Blink completed the snapshot command but the picture of camera {camera.id} "
                f"did not change within {self._settings.snapshot_wait:g} s",
                blink_command_id=command.id if command else None)

        if self.images.needs_update(changed):
            await self.images.update(changed)
        record = self.images.published.get(changed.id)
        if record is None or changed.thumbnail is None or record.version != changed.thumbnail.version:
            raise CommandRefused(Reason.UNCHANGED,
                                 f"Blink has a new picture of camera {camera.id} but it could not "
                                 "be published (see the log); the previous image stays")
        timestamp = changed.thumbnail.timestamp
        return {
            "image_bytes": record.size,
            "thumbnail_time": datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat()
            if timestamp is not None else None,
        }

    async def _wait_for_new_thumbnail(self, camera_id: int, before: str | None) -> Camera | None:
        deadline = time.monotonic() + self._settings.snapshot_wait
        # Re-read at most a handful of times: each read is a homescreen request.
        pause = max(self._settings.snapshot_wait / 5, 0.05)
        while True:
            await self._read_back()
            camera = self._inventory.cameras.get(camera_id)
            if camera is not None and camera.thumbnail is not None \
                    and camera.thumbnail.version != before:
                return camera
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            await asyncio.sleep(min(pause, remaining))

    # Record and snooze ------------------------------------------------------

    async def _record(self, request: CommandRequest,
                      lifecycle: CommandLifecycle) -> dict[str, object] | None:
        camera = self._require_camera(request.device_id)
        self._pending_records[camera.id] = time.monotonic()
        command = await self._runner.start_blink_command(request, camera.network_id)
        status = await self._runner.follow(command, lifecycle)
        if status is not None and status.media_id is not None:
            self._recorded_media_ids.add(status.media_id)
        return {"media_id": status.media_id if status else None}

    async def _snooze(self, request: CommandRequest,
                      lifecycle: CommandLifecycle) -> dict[str, object] | None:
        assert request.minutes is not None
        network_id = request.device_id if request.kind is DeviceKind.NETWORK \
            else self._require_camera(request.device_id).network_id
        command = await self._runner.start_blink_command(request, network_id)
        await self._runner.follow(command, lifecycle)

        until = utc_now() + timedelta(minutes=request.minutes)
        if request.kind is DeviceKind.NETWORK:
            self._announcer.snoozed_networks[network_id] = until
            network = self._inventory.networks.get(network_id)
            if network is not None:
                self._announcer.publish_network(network)
        else:
            activity = self._announcer.activity.get(request.device_id) or CameraActivity()
            self._announcer.activity[request.device_id] = replace(activity, snoozed_until=until)
        await self._read_back()
        return {"minutes": request.minutes, "snoozed_until": until.isoformat(timespec="seconds")}

    # Helpers ----------------------------------------------------------------

    def _require_camera(self, camera_id: int) -> Camera:
        camera = self._inventory.cameras.get(camera_id)
        if camera is None:
            raise CommandRefused(Reason.UNKNOWN_DEVICE,
                                 f"camera {camera_id} is not in the Blink account")
        return camera

    def forget_camera(self, camera_id: int) -> None:
        timer = self._motion_timers.pop(camera_id, None)
        if timer is not None:
            timer.cancel()
        self.images.forget(camera_id)

    def _spawn(self, coroutine: Any, name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        for timer in self._motion_timers.values():
            timer.cancel()
        for task in self._tasks:
            task.cancel()


def _failure_of(err: BaseException) -> tuple[Reason, str, dict[str, object]]:
    if isinstance(err, CommandRefused):
        return err.reason, err.message, dict(err.details)
    if isinstance(err, blink_errors.BlinkError):
        return describe_failure(err)
    return Reason.INTERNAL, "internal error in blink2mqtt; see its log", {}
