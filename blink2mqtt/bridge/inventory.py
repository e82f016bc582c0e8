"""The devices the bridge publishes, and when a missing one counts as removed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..blink.models import Camera, Homescreen, Network
from .topics import DeviceKind

_LOGGER = logging.getLogger(__name__)

DeviceKey = tuple[DeviceKind, int]


@dataclass(slots=True)
class InventoryUpdate:
    added: list[DeviceKey] = field(default_factory=list)
    removed: list[DeviceKey] = field(default_factory=list)


class Inventory:
    """Networks and cameras from the last good homescreen, plus recently missing ones.

    A device that vanishes from the homescreen is kept, unchanged, until it has
    been missing from ``remove_after`` consecutive complete polls. One bad
    reading never deletes a user's entities.
    """

    def __init__(self, *, remove_after: int) -> None:
        self._remove_after = remove_after
        self.networks: dict[int, Network] = {}
        self.cameras: dict[int, Camera] = {}
        self._missing_polls: dict[DeviceKey, int] = {}
        self.homescreen: Homescreen | None = None

    def __contains__(self, key: DeviceKey) -> bool:
        kind, device_id = key
        return device_id in (self.networks if kind is DeviceKind.NETWORK else self.cameras)

    def network_name(self, network_id: int) -> str | None:
        network = self.networks.get(network_id)
        return network.name if network else None

    def update(self, homescreen: Homescreen, *, complete: bool = True) -> InventoryUpdate:
        """Take in a successful poll; ``complete`` is False when entries had to be skipped."""
        self.homescreen = homescreen
        result = InventoryUpdate()
        present: set[DeviceKey] = set()

        for network in homescreen.networks:
            key = (DeviceKind.NETWORK, network.id)
            if network.id not in self.networks:
                result.added.append(key)
            self.networks[network.id] = network
            present.add(key)
        for camera in homescreen.cameras:
            key = (DeviceKind.CAMERA, camera.id)
            if camera.id not in self.cameras:
                result.added.append(key)
            self.cameras[camera.id] = camera
            present.add(key)

        for key in present:
            self._missing_polls.pop(key, None)
        if not complete:
            return result

        known = [(DeviceKind.NETWORK, i) for i in self.networks] + \
                [(DeviceKind.CAMERA, i) for i in self.cameras]
        for key in known:
            if key in present:
                continue
            count = self._missing_polls.get(key, 0) + 1
            self._missing_polls[key] = count
            if count >= self._remove_after:
                result.removed.append(key)
            else:
                _LOGGER.info("%s %s missing from the homescreen (%d of %d polls before removal)",
                             key[0].value, key[1], count, self._remove_after)

        for kind, device_id in result.removed:
            self._missing_polls.pop((kind, device_id), None)
            if kind is DeviceKind.NETWORK:
                self.networks.pop(device_id, None)
            else:
                self.cameras.pop(device_id, None)
        return result
