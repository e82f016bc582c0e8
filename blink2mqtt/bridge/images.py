"""Camera pictures: download a thumbnail only when it changed, publish only valid JPEGs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

from ..blink import errors as blink_errors
from ..blink.client import BlinkClient
from ..blink.models import Camera

_LOGGER = logging.getLogger(__name__)

JPEG_START = b"\xff\xd8\xff"


class InvalidImageError(ValueError):
    """A downloaded body that must not replace the published picture."""


def check_jpeg(body: bytes, *, max_bytes: int) -> None:
    """Raise InvalidImageError unless the body is a non-empty JPEG within the size limit."""
    if not body:
        raise InvalidImageError("the body is empty")
    if len(body) > max_bytes:
        raise InvalidImageError(f"the image has {len(body)} bytes, more than media.max_image_bytes "
                                f"({max_bytes})")
    if not body.startswith(JPEG_START):
        raise InvalidImageError(f"the body is not a JPEG (starts with {body[:8]!r})")


@dataclass(slots=True)
class ImageRecord:
    version: str
    size: int


class ImagePublisher:
    """Tracks which thumbnail version each camera's image topic shows."""

    def __init__(self, client: BlinkClient, publish: Callable[[int, bytes], None], *,
                 max_bytes: int) -> None:
        self._client = client
        self._publish = publish
        self._max_bytes = max_bytes
        self.published: dict[int, ImageRecord] = {}
        # Versions whose body was invalid: not downloaded again until Blink has a new one.
        self._rejected: dict[int, str] = {}

    def needs_update(self, camera: Camera) -> bool:
        thumbnail = camera.thumbnail
        if thumbnail is None:
            return False
        record = self.published.get(camera.id)
        if record is not None and record.version == thumbnail.version:
            return False
        return self._rejected.get(camera.id) != thumbnail.version

    async def update(self, camera: Camera) -> bool:
        """Download and publish the camera's current thumbnail; True when a new image went out.

        Transient download errors leave nothing recorded, so the next poll tries
        again. Invalid bodies are logged once and that version is skipped.
        """
        thumbnail = camera.thumbnail
        if thumbnail is None:
            return False
        try:
            body = await self._client.download(thumbnail.path)
            check_jpeg(body, max_bytes=self._max_bytes)
        except InvalidImageError as err:
            self._rejected[camera.id] = thumbnail.version
            _LOGGER.warning("Kept the previous image of camera %s: the new thumbnail is not "
                            "published because %s", camera.id, err)
            return False
        except blink_errors.NotFoundError:
            self._rejected[camera.id] = thumbnail.version
            _LOGGER.warning("Blink has no image at the thumbnail of camera %s", camera.id)
            return False

        self._publish(camera.id, body)
        self.published[camera.id] = ImageRecord(version=thumbnail.version, size=len(body))
        self._rejected.pop(camera.id, None)
        _LOGGER.debug("Published a %d-byte image of camera %s", len(body), camera.id)
        return True

    def forget(self, camera_id: int) -> None:
        self.published.pop(camera_id, None)
        self._rejected.pop(camera_id, None)
