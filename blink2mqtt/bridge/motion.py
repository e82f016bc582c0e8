"""Which media entries are new: seen ids and a ``since`` watermark that survive restarts.

Blink's ``media/changed`` list is the only motion signal. Comparing each
clip's creation time with the last poll misses clips that upload late, so the
tracker remembers media ids instead and requests everything changed since the
last successful read minus an overlap. A clip is therefore reported once,
even when it shows up late, and never twice.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..blink.models import MediaEvent
from ..files import write_atomically
from ..blink.parsing import parse_timestamp

_LOGGER = logging.getLogger(__name__)

# The watermark alone is saved at most this often; new ids are saved at once.
# Losing a newer watermark only widens the next query, never repeats an event.
WATERMARK_SAVE_INTERVAL = timedelta(minutes=5)

# Seen ids are kept this long after they were first read, to keep the file
# small. A clip created longer ago than this is history whenever it shows up
# (for example when someone watches it in the app and Blink lists it again).
SEEN_RETENTION = timedelta(days=2)
STATE_FILE_MODE = 0o600


@dataclass(slots=True)
class MediaCursor:
    """Persistent position in the media list."""

    watermark: datetime | None = None
    seen: dict[int, datetime] = field(default_factory=dict)

    @property
    def is_first_start(self) -> bool:
        return self.watermark is None


class MediaCursorStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> MediaCursor:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return MediaCursor()
        except (OSError, json.JSONDecodeError) as err:
            _LOGGER.warning("Media state %s is unreadable (%s); starting without history, "
                            "so clips already on Blink will not fire motion", self.path, err)
            return MediaCursor()
        if not isinstance(data, dict):
            return MediaCursor()
        seen: dict[int, datetime] = {}
        raw_seen = data.get("seen")
        if isinstance(raw_seen, dict):
            for key, value in raw_seen.items():
                moment = parse_timestamp(value)
                if key.isdigit() and moment is not None:
                    seen[int(key)] = moment
        return MediaCursor(watermark=parse_timestamp(data.get("watermark")), seen=seen)

    def save(self, cursor: MediaCursor) -> None:
        payload = {
            "watermark": cursor.watermark.isoformat() if cursor.watermark else None,
            "seen": {str(media_id): moment.isoformat() for media_id, moment in cursor.seen.items()},
        }
        write_atomically(self.path, json.dumps(payload).encode("utf-8"), mode=STATE_FILE_MODE)


class MediaTracker:
    """Decides which media entries are new and moves the watermark forward."""

    def __init__(self, store: MediaCursorStore, *, overlap: timedelta) -> None:
        self._store = store
        self._overlap = overlap
        self.cursor = store.load()
        self._saved_watermark = self.cursor.watermark
        self._persisted_ids: set[int] = set(self.cursor.seen)

    def since(self, now: datetime) -> datetime:
        """Return the ``since`` of the next query, which on a first start is the last overlap window."""
        base = self.cursor.watermark or now
        return base - self._overlap

    def accept(self, events: list[MediaEvent], *, fetched_at: datetime) -> list[MediaEvent]:
        """Record a successful read; return entries never seen before, oldest first.

        On a first start nothing is returned: clips already on Blink are history,
        not motion. Deleted entries are recorded but never returned.
        """
        first_start = self.cursor.is_first_start
        oldest_news = fetched_at - SEEN_RETENTION
        fresh: list[MediaEvent] = []
        for event in sorted(events, key=lambda e: (e.created_at, e.id)):
            if event.id in self.cursor.seen:
                continue
            self.cursor.seen[event.id] = fetched_at
            if first_start or event.deleted or event.created_at < oldest_news:
                continue
            fresh.append(event)

        self.cursor.watermark = fetched_at
        horizon = fetched_at - SEEN_RETENTION - self._overlap
        before = len(self.cursor.seen)
        self.cursor.seen = {media_id: moment for media_id, moment in self.cursor.seen.items()
                            if moment >= horizon}
        seen_changed = len(self.cursor.seen) != before or any(
            event.id not in self._persisted_ids for event in events)
        # Writing the file costs an fsync, so quiet polls skip it.
        if first_start or seen_changed or self._saved_watermark is None \
                or fetched_at - self._saved_watermark >= WATERMARK_SAVE_INTERVAL:
            self._store.save(self.cursor)
            self._saved_watermark = fetched_at
            self._persisted_ids = set(self.cursor.seen)
        if first_start:
            _LOGGER.info("First media read: %d existing clips marked as history", len(events))
        return fresh


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
