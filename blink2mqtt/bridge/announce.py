"""Publish what the inventory holds: device states, availability and discovery.

Everything here goes through the RetainedPublisher, so calling these methods
after every poll sends only what changed.
"""

from __future__ import annotations

import logging
from typing import Any

from ..blink.models import Camera, Network
from .discovery import (
    DiscoveryContext,
    DiscoveryMessage,
    bridge_discovery,
    camera_discovery,
    network_discovery,
)
from .inventory import DeviceKey, Inventory
from .payloads import CameraActivity, camera_payload, model_name, network_payload
from .publisher import RetainedPublisher
from .commands import SUPPORTED_COMMANDS
from .topics import OFFLINE, ONLINE, DeviceKind, Topics

_LOGGER = logging.getLogger(__name__)


class Announcer:
    def __init__(self, publisher: RetainedPublisher, topics: Topics, inventory: Inventory,
                 discovery: DiscoveryContext | None) -> None:
        self._publisher = publisher
        self._topics = topics
        self._inventory = inventory
        self.discovery = discovery
        self.activity: dict[int, CameraActivity] = {}
        self.transitions: dict[int, str] = {}
        self.snoozed_networks: dict[int, Any] = {}
        self.devices_online = True
        # Discovery topics published per device, to clear them on removal.
        self._discovery_topics: dict[DeviceKey, set[str]] = {}

    # States -----------------------------------------------------------------

    def publish_network(self, network: Network) -> None:
        payload = network_payload(network, transition=self.transitions.get(network.id),
                                  snoozed_until=self.snoozed_networks.get(network.id))
        self._publisher.publish(self._topics.device(DeviceKind.NETWORK, network.id), payload)

    def publish_camera(self, camera: Camera) -> None:
        payload = camera_payload(camera, activity=self.activity.get(camera.id),
                                 network_name=self._inventory.network_name(camera.network_id))
        self._publisher.publish(self._topics.device(DeviceKind.CAMERA, camera.id), payload)

    def publish_all_states(self) -> None:
        for network in self._inventory.networks.values():
            self.publish_network(network)
            self._publish_availability(DeviceKind.NETWORK, network.id)
        for camera in self._inventory.cameras.values():
            self.publish_camera(camera)
            self._publish_availability(DeviceKind.CAMERA, camera.id)

    def set_devices_online(self, online: bool) -> None:
        """Mark every device online or offline, e.g. during a Blink outage."""
        if online == self.devices_online:
            return
        self.devices_online = online
        _LOGGER.warning("Blink devices are now %s", ONLINE if online else OFFLINE)
        for network_id in self._inventory.networks:
            self._publish_availability(DeviceKind.NETWORK, network_id)
        for camera_id in self._inventory.cameras:
            self._publish_availability(DeviceKind.CAMERA, camera_id)

    def _publish_availability(self, kind: DeviceKind, device_id: int) -> None:
        self._publisher.publish(self._topics.availability(kind, device_id),
                                ONLINE if self.devices_online else OFFLINE)

    # Discovery --------------------------------------------------------------

    def publish_discovery(self, *, force: bool = False) -> None:
        if self.discovery is None:
            return
        self._publish_discovery_messages(("bridge", 0), bridge_discovery(self.discovery), force)
        for network in self._inventory.networks.values():
            self._publish_discovery_messages((DeviceKind.NETWORK, network.id),
                                             network_discovery(self.discovery, network), force)
        for camera in self._inventory.cameras.values():
            network = self._inventory.networks.get(camera.network_id)
            self._publish_discovery_messages((DeviceKind.CAMERA, camera.id),
                                             camera_discovery(self.discovery, camera, network),
                                             force)

    def _publish_discovery_messages(self, key: Any, messages: list[DiscoveryMessage],
                                    force: bool) -> None:
        topics = {message.topic for message in messages}
        previous = self._discovery_topics.get(key, set())
        # Entities a device no longer has (e.g. a changed model) are cleared.
        for stale in previous - topics:
            self._publisher.clear(stale)
        for message in messages:
            self._publisher.publish(message.topic, message.payload, force=force)
        self._discovery_topics[key] = topics

    # Removal ----------------------------------------------------------------

    def remove_device(self, key: DeviceKey) -> None:
        kind, device_id = key
        _LOGGER.info("Removing %s %s: missing from Blink for several polls", kind.value, device_id)
        for topic in self._discovery_topics.pop(key, set()):
            self._publisher.clear(topic)
        device_topic = self._topics.device(kind, device_id)
        for topic in self._publisher.topics_with_prefix(f"{device_topic}/") + [device_topic]:
            self._publisher.clear(topic)
        if kind is DeviceKind.CAMERA:
            self.activity.pop(device_id, None)
        else:
            self.transitions.pop(device_id, None)

    # Inventory listing ------------------------------------------------------

    def devices_listing(self) -> list[dict[str, Any]]:
        listing: list[dict[str, Any]] = []
        for network in self._inventory.networks.values():
            listing.append({
                "id": network.id, "name": network.name, "kind": DeviceKind.NETWORK.value,
                "model": "Sync Module" if network.sync_module else "Network without sync module",
                "network": network.id,
                "commands": [name.value for name in SUPPORTED_COMMANDS[DeviceKind.NETWORK]],
                "topic": self._topics.device(DeviceKind.NETWORK, network.id),
            })
        for camera in self._inventory.cameras.values():
            listing.append({
                "id": camera.id, "name": camera.name, "kind": DeviceKind.CAMERA.value,
                "family": camera.family.value, "model": model_name(camera),
                "network": camera.network_id,
                "commands": [name.value for name in SUPPORTED_COMMANDS[DeviceKind.CAMERA]],
                "topic": self._topics.device(DeviceKind.CAMERA, camera.id),
            })
        return listing
