"""The MQTT topic contract, built in one place.

``<base>/<kind>/<id>`` where kind is ``network`` or ``camera`` and id is
Blink's numeric id, so renaming a device in the Blink app never moves a topic.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

ONLINE = "online"
OFFLINE = "offline"

BRIDGE_REQUESTS = ("pin", "refresh", "discovery", "health")


class DeviceKind(StrEnum):
    NETWORK = "network"
    CAMERA = "camera"


class Action(StrEnum):
    """Command topics below a device topic."""

    SET = "set"
    GET = "get"
    SNAPSHOT = "snapshot"
    RECORD = "record"
    SNOOZE = "snooze"


@dataclass(frozen=True, slots=True)
class DeviceTopic:
    """A parsed incoming device command topic."""

    kind: DeviceKind
    device_id: str
    action: Action


@dataclass(frozen=True, slots=True)
class Topics:
    base: str = "blink2mqtt"
    discovery_prefix: str = "homeassistant"

    # Bridge -----------------------------------------------------------------

    @property
    def bridge_state(self) -> str:
        return f"{self.base}/bridge/state"

    @property
    def bridge_info(self) -> str:
        return f"{self.base}/bridge/info"

    @property
    def bridge_auth(self) -> str:
        return f"{self.base}/bridge/auth"

    @property
    def bridge_devices(self) -> str:
        return f"{self.base}/bridge/devices"

    @property
    def bridge_health(self) -> str:
        return f"{self.base}/bridge/health"

    def bridge_request(self, name: str) -> str:
        return f"{self.base}/bridge/request/{name}"

    def bridge_response(self, name: str) -> str:
        return f"{self.base}/bridge/response/{name}"

    @property
    def bridge_request_filter(self) -> str:
        return f"{self.base}/bridge/request/+"

    @property
    def homeassistant_status(self) -> str:
        return f"{self.discovery_prefix}/status"

    # Devices ----------------------------------------------------------------

    def device(self, kind: DeviceKind, device_id: int | str) -> str:
        return f"{self.base}/{kind.value}/{device_id}"

    def availability(self, kind: DeviceKind, device_id: int | str) -> str:
        return f"{self.device(kind, device_id)}/availability"

    def action(self, kind: DeviceKind, device_id: int | str, action: Action) -> str:
        return f"{self.device(kind, device_id)}/{action.value}"

    def response(self, kind: DeviceKind, device_id: int | str) -> str:
        return f"{self.device(kind, device_id)}/response"

    def image(self, camera_id: int | str) -> str:
        return f"{self.device(DeviceKind.CAMERA, camera_id)}/image"

    def event(self, camera_id: int | str) -> str:
        return f"{self.device(DeviceKind.CAMERA, camera_id)}/event"

    def command_filters(self) -> list[str]:
        """Subscriptions for every device command topic."""
        return [f"{self.base}/{kind.value}/+/{action.value}"
                for kind in DeviceKind for action in Action]

    def parse_command_topic(self, topic: str) -> DeviceTopic | None:
        """Return the device command a topic addresses, or None for any other topic."""
        prefix = f"{self.base}/"
        if not topic.startswith(prefix):
            return None
        parts = topic[len(prefix):].split("/")
        if len(parts) != 3:
            return None
        kind_name, device_id, action_name = parts
        try:
            return DeviceTopic(DeviceKind(kind_name), device_id, Action(action_name))
        except ValueError:
            return None

    def parse_bridge_request(self, topic: str) -> str | None:
        prefix = f"{self.base}/bridge/request/"
        if topic.startswith(prefix) and "/" not in topic[len(prefix):]:
            return topic[len(prefix):]
        return None

    # Home Assistant discovery -----------------------------------------------

    def discovery_config(self, component: str, node_id: str, object_id: str) -> str:
        return f"{self.discovery_prefix}/{component}/{node_id}/{object_id}/config"
