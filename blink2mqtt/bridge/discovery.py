"""Home Assistant MQTT discovery configs, as plain functions of the bridge's state.

One config per entity on ``<prefix>/<component>/<node_id>/<object_id>/config``,
meant to be published retained. Keys are the full option names of Home Assistant's
MQTT platforms (checked against Home Assistant 2026.11), never the abbreviations.

Every value template maps a null or missing field to "None", the payload Home
Assistant reads as unknown, so a value Blink does not send never shows as OFF or 0.
"""

from __future__ import annotations

import re
import unicodedata
from copy import deepcopy
from dataclasses import dataclass, replace
from typing import Any

from ..blink.models import Camera, DeviceFamily, Network
from .payloads import model_name
from .topics import OFFLINE, ONLINE, Action, DeviceKind, Topics

ORIGIN_NAME = "blink2mqtt"
SUPPORT_URL = "https://github.com/blink2mqtt/blink2mqtt"

# Home Assistant MQTT platforms (the <component> level of a discovery topic).
ALARM_CONTROL_PANEL = "alarm_control_panel"
BINARY_SENSOR = "binary_sensor"
BUTTON = "button"
CAMERA = "camera"
EVENT = "event"
SENSOR = "sensor"
SWITCH = "switch"
TEXT = "text"

# Payloads Home Assistant reads or sends.
PAYLOAD_ON = "ON"
PAYLOAD_OFF = "OFF"
PAYLOAD_UNKNOWN = "None"  # Home Assistant's reserved payload for an unknown state
PAYLOAD_ARM_AWAY = "ARM_AWAY"
PAYLOAD_DISARM = "DISARM"
MOTION_DETECTION_ON = '{"motion_detection": true}'
MOTION_DETECTION_OFF = '{"motion_detection": false}'
# Bridge requests take a JSON object: the PIN goes in "pin", and a refresh needs no fields.
REFRESH_REQUEST = "{}"

DIAGNOSTIC = "diagnostic"
AVAILABILITY_ALL = "all"

# Device names and models.
BRIDGE_NAME = "Blink bridge"
BRIDGE_MANUFACTURER = "blink2mqtt"
BRIDGE_MODEL = "Blink to MQTT bridge"
BLINK_MANUFACTURER = "Blink"
SYNC_MODULE_MODEL = "Sync Module"
NETWORK_WITHOUT_SYNC_MODULE_MODEL = "Blink network (no sync module)"

# States of <base>/bridge/auth, in the order Home Assistant lists them.
AUTH_STATES = (
    "ok",
    "pin_required",
    "login_required",
    "blocked",
    "rate_limited",
    "client_outdated",
    "connecting",
    "error",
)

CAMERA_EVENT_TYPES = ("motion", "clip_ready")

# Blink's two-factor codes are 6 digits. The 4 to 8 bounds leave room in case that changes.
PIN_MIN_LENGTH = 4
PIN_MAX_LENGTH = 8
PIN_PATTERN = f"^[0-9]{{{PIN_MIN_LENGTH},{PIN_MAX_LENGTH}}}$"
PIN_COMMAND_TEMPLATE = '{"pin": "{{ value }}"}'  # safe unescaped: the pattern allows digits only

_INVALID_NODE_ID_CHARACTERS = re.compile(r"[^a-zA-Z0-9_-]")
_SLUG_SEPARATORS = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class DiscoveryContext:
    """What every discovery config depends on besides the device itself."""

    topics: Topics
    version: str  # blink2mqtt version, for origin and the bridge device's sw_version
    # Blink account id once logged in. No id or name uses it, because it is None
    # until login completes and a unique_id must never change.
    account_id: int | None
    snooze_minutes: int = 240  # payload of the snooze buttons
    # Seconds after which Home Assistant turns motion off by itself, so a sensor
    # never stays on when the bridge stops while motion is on.
    motion_off_delay: float | None = None

    @property
    def node_id(self) -> str:
        """The base topic reduced to the characters a discovery topic level allows."""
        return _INVALID_NODE_ID_CHARACTERS.sub("_", self.topics.base)

    @property
    def bridge_identifier(self) -> str:
        return f"{self.node_id}_bridge"

    def network_identifier(self, network_id: int) -> str:
        return f"{self.node_id}_network_{network_id}"

    def camera_identifier(self, camera_id: int) -> str:
        return f"{self.node_id}_camera_{camera_id}"


@dataclass(frozen=True, slots=True)
class DiscoveryMessage:
    """One retained discovery config and the topic it goes to."""

    component: str
    object_id: str
    topic: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Owner:
    """The device an entity belongs to, with what its entities share."""

    key: str               # "bridge", "network_<id>" or "camera_<id>": object_id prefix
    entity_id_prefix: str  # slug that starts each default entity id
    device: dict[str, Any]
    availability: list[dict[str, str]] | None


# Public API ----------------------------------------------------------------


def bridge_discovery(ctx: DiscoveryContext) -> list[DiscoveryMessage]:
    """Build the configs of the bridge device: connection, login, PIN, refresh, last poll."""
    owner = _Owner(
        key="bridge",
        entity_id_prefix=f"{_slugify(ctx.node_id) or ORIGIN_NAME}_bridge",
        device=_bridge_device(ctx),
        availability=[_availability_entry(ctx.topics.bridge_state)],
    )
    return [
        _bridge_connection_sensor(ctx, owner),
        _login_sensor(ctx, owner),
        _pin_text(ctx, owner),
        _refresh_button(ctx, owner),
        _last_poll_sensor(ctx, owner),
    ]


def network_discovery(ctx: DiscoveryContext, network: Network) -> list[DiscoveryMessage]:
    """Build the configs of one network: alarm panel, sync module status, snooze."""
    name = _network_name(network)
    owner = _Owner(
        key=f"network_{network.id}",
        entity_id_prefix=_slugify(name) or f"network_{network.id}",
        device=_network_device(ctx, network, name),
        availability=_device_availability(ctx, DeviceKind.NETWORK, network.id),
    )
    messages = [_alarm_panel(ctx, owner, network)]
    if network.sync_module is not None:
        messages.append(_sync_module_sensor(ctx, owner, network))
    messages.append(_snooze_button(ctx, owner, DeviceKind.NETWORK, network.id))
    return messages


def camera_discovery(ctx: DiscoveryContext, camera: Camera,
                     network: Network | None) -> list[DiscoveryMessage]:
    """Build the configs of one camera, with battery, temperature and Wi-Fi for classic cameras.

    ``network`` is the camera's network, or None when the bridge has no record of
    it. The camera device then hangs directly off the bridge device.
    """
    name = _camera_name(camera)
    owner = _Owner(
        key=f"camera_{camera.id}",
        entity_id_prefix=_slugify(name) or f"camera_{camera.id}",
        device=_camera_device(ctx, camera, name, network),
        availability=_device_availability(ctx, DeviceKind.CAMERA, camera.id),
    )
    messages = [
        _camera_image(ctx, owner, camera),
        _motion_detection_switch(ctx, owner, camera),
        _motion_sensor(ctx, owner, camera),
        _online_sensor(ctx, owner, camera),
        _last_motion_sensor(ctx, owner, camera),
        _camera_event(ctx, owner, camera),
        _camera_action_button(ctx, owner, camera, Action.SNAPSHOT, "Take snapshot",
                              "mdi:camera"),
        _camera_action_button(ctx, owner, camera, Action.RECORD, "Record clip",
                              "mdi:record-rec"),
        _snooze_button(ctx, owner, DeviceKind.CAMERA, camera.id),
    ]
    # Minis and doorbells report no battery, temperature or signal bars.
    if camera.family is DeviceFamily.CAMERA:
        messages += [
            _battery_low_sensor(ctx, owner, camera),
            _battery_level_sensor(ctx, owner, camera),
            _temperature_sensor(ctx, owner, camera),
            _wifi_signal_sensor(ctx, owner, camera),
        ]
    return messages


# Devices -------------------------------------------------------------------


def _bridge_device(ctx: DiscoveryContext) -> dict[str, Any]:
    return {
        "identifiers": [ctx.bridge_identifier],
        "name": BRIDGE_NAME,
        "manufacturer": BRIDGE_MANUFACTURER,
        "model": BRIDGE_MODEL,
        "sw_version": ctx.version,
    }


def _network_device(ctx: DiscoveryContext, network: Network, name: str) -> dict[str, Any]:
    module = network.sync_module
    device: dict[str, Any] = {
        "identifiers": [ctx.network_identifier(network.id)],
        "name": name,
        "manufacturer": BLINK_MANUFACTURER,
        "via_device": ctx.bridge_identifier,
    }
    if module is None:
        device["model"] = NETWORK_WITHOUT_SYNC_MODULE_MODEL
        return device

    if module.model:
        device["model"] = f"{SYNC_MODULE_MODEL} {module.model}"
        device["model_id"] = module.model
    else:
        device["model"] = SYNC_MODULE_MODEL
    # Home Assistant rejects a null device field, so unknown values are left out.
    _set_if_known(device, "serial_number", module.serial)
    _set_if_known(device, "sw_version", module.firmware)
    return device


def _camera_device(ctx: DiscoveryContext, camera: Camera, name: str,
                   network: Network | None) -> dict[str, Any]:
    parent = (ctx.network_identifier(network.id) if network is not None
              else ctx.bridge_identifier)
    device: dict[str, Any] = {
        "identifiers": [ctx.camera_identifier(camera.id)],
        "name": name,
        "manufacturer": BLINK_MANUFACTURER,
        "model": model_name(camera),
        "via_device": parent,
    }
    _set_if_known(device, "model_id", camera.model)
    _set_if_known(device, "serial_number", camera.serial)
    _set_if_known(device, "sw_version", camera.firmware)
    return device


def _network_name(network: Network) -> str:
    return network.name or f"Blink network {network.id}"


def _camera_name(camera: Camera) -> str:
    return camera.name or f"Blink camera {camera.id}"


def _set_if_known(target: dict[str, Any], key: str, value: str | None) -> None:
    if value:
        target[key] = value


# Availability --------------------------------------------------------------


def _availability_entry(topic: str) -> dict[str, str]:
    return {"topic": topic, "payload_available": ONLINE, "payload_not_available": OFFLINE}


def _device_availability(ctx: DiscoveryContext, kind: DeviceKind,
                         device_id: int) -> list[dict[str, str]]:
    """Return the bridge and device availability, both of which must be online."""
    return [
        _availability_entry(ctx.topics.bridge_state),
        _availability_entry(ctx.topics.availability(kind, device_id)),
    ]


# Network entities ----------------------------------------------------------


def _alarm_panel(ctx: DiscoveryContext, owner: _Owner, network: Network) -> DiscoveryMessage:
    state_topic = ctx.topics.device(DeviceKind.NETWORK, network.id)
    return _message(ctx, owner, ALARM_CONTROL_PANEL, "alarm", None, {
        "state_topic": state_topic,
        "value_template": _string_template("state"),
        "command_topic": ctx.topics.action(DeviceKind.NETWORK, network.id, Action.SET),
        "payload_arm_away": PAYLOAD_ARM_AWAY,
        "payload_disarm": PAYLOAD_DISARM,
        "supported_features": ["arm_away"],
        # Blink arms without a code, and a code in discovery is readable by every client.
        "code_arm_required": False,
        "code_disarm_required": False,
        "json_attributes_topic": state_topic,
    })


def _sync_module_sensor(ctx: DiscoveryContext, owner: _Owner,
                        network: Network) -> DiscoveryMessage:
    return _message(ctx, owner, BINARY_SENSOR, "sync_module", "Sync module", {
        "state_topic": ctx.topics.device(DeviceKind.NETWORK, network.id),
        "value_template": _on_off_template("sync_module.online"),
        "device_class": "connectivity",
        "entity_category": DIAGNOSTIC,
    })


def _snooze_button(ctx: DiscoveryContext, owner: _Owner, kind: DeviceKind,
                   device_id: int) -> DiscoveryMessage:
    return _message(ctx, owner, BUTTON, "snooze", "Snooze", {
        "command_topic": ctx.topics.action(kind, device_id, Action.SNOOZE),
        "payload_press": str(ctx.snooze_minutes),
        "icon": "mdi:bell-sleep",
    })


# Camera entities -----------------------------------------------------------


def _camera_image(ctx: DiscoveryContext, owner: _Owner, camera: Camera) -> DiscoveryMessage:
    # The image topic carries raw JPEG bytes, so no image_encoding is set.
    return _message(ctx, owner, CAMERA, "image", None, {
        "topic": ctx.topics.image(camera.id),
        "json_attributes_topic": ctx.topics.device(DeviceKind.CAMERA, camera.id),
    })


def _motion_detection_switch(ctx: DiscoveryContext, owner: _Owner,
                             camera: Camera) -> DiscoveryMessage:
    return _message(ctx, owner, SWITCH, "motion_detection", "Motion detection", {
        "state_topic": ctx.topics.device(DeviceKind.CAMERA, camera.id),
        "value_template": _on_off_template("motion_detection"),
        "state_on": PAYLOAD_ON,
        "state_off": PAYLOAD_OFF,
        "command_topic": ctx.topics.action(DeviceKind.CAMERA, camera.id, Action.SET),
        "payload_on": MOTION_DETECTION_ON,
        "payload_off": MOTION_DETECTION_OFF,
        "icon": "mdi:motion-sensor",
    })


def _motion_sensor(ctx: DiscoveryContext, owner: _Owner, camera: Camera) -> DiscoveryMessage:
    fields: dict[str, Any] = {
        "state_topic": ctx.topics.device(DeviceKind.CAMERA, camera.id),
        "value_template": _on_off_template("motion"),
        "device_class": "motion",
    }
    if ctx.motion_off_delay is not None:
        fields["off_delay"] = max(1, round(ctx.motion_off_delay))
    return _message(ctx, owner, BINARY_SENSOR, "motion", "Motion", fields)


def _online_sensor(ctx: DiscoveryContext, owner: _Owner, camera: Camera) -> DiscoveryMessage:
    return _message(ctx, owner, BINARY_SENSOR, "online", "Online", {
        "state_topic": ctx.topics.device(DeviceKind.CAMERA, camera.id),
        "value_template": _on_off_template("online"),
        "device_class": "connectivity",
        "entity_category": DIAGNOSTIC,
    })


def _last_motion_sensor(ctx: DiscoveryContext, owner: _Owner,
                        camera: Camera) -> DiscoveryMessage:
    return _message(ctx, owner, SENSOR, "last_motion", "Last motion", {
        "state_topic": ctx.topics.device(DeviceKind.CAMERA, camera.id),
        "value_template": _string_template("last_motion"),
        "device_class": "timestamp",
    })


def _camera_event(ctx: DiscoveryContext, owner: _Owner, camera: Camera) -> DiscoveryMessage:
    # Home Assistant ignores retained event messages, so events must go out unretained.
    return _message(ctx, owner, EVENT, "event", "Activity", {
        "state_topic": ctx.topics.event(camera.id),
        "event_types": list(CAMERA_EVENT_TYPES),
        "device_class": "motion",
    })


def _camera_action_button(ctx: DiscoveryContext, owner: _Owner, camera: Camera,
                          action: Action, name: str, icon: str) -> DiscoveryMessage:
    return _message(ctx, owner, BUTTON, action.value, name, {
        "command_topic": ctx.topics.action(DeviceKind.CAMERA, camera.id, action),
        "icon": icon,
    })


def _battery_low_sensor(ctx: DiscoveryContext, owner: _Owner,
                        camera: Camera) -> DiscoveryMessage:
    # Home Assistant's battery binary sensor is on when the battery is low.
    return _message(ctx, owner, BINARY_SENSOR, "battery", "Battery", {
        "state_topic": ctx.topics.device(DeviceKind.CAMERA, camera.id),
        "value_template": _on_off_template("battery_low"),
        "device_class": "battery",
        "entity_category": DIAGNOSTIC,
    })


def _battery_level_sensor(ctx: DiscoveryContext, owner: _Owner,
                          camera: Camera) -> DiscoveryMessage:
    # Blink's level is a bar count (scale undocumented, values up to 3 seen), not a
    # percentage, so it gets neither the battery device class nor the % unit.
    return _message(ctx, owner, SENSOR, "battery_level", "Battery level", {
        "state_topic": ctx.topics.device(DeviceKind.CAMERA, camera.id),
        "value_template": _number_template("battery_level"),
        "state_class": "measurement",
        "entity_category": DIAGNOSTIC,
        "icon": "mdi:battery",
    })


def _temperature_sensor(ctx: DiscoveryContext, owner: _Owner,
                        camera: Camera) -> DiscoveryMessage:
    return _message(ctx, owner, SENSOR, "temperature", "Temperature", {
        "state_topic": ctx.topics.device(DeviceKind.CAMERA, camera.id),
        "value_template": _number_template("temperature"),
        "device_class": "temperature",
        "unit_of_measurement": "°C",
        "state_class": "measurement",
        "suggested_display_precision": 1,
    })


def _wifi_signal_sensor(ctx: DiscoveryContext, owner: _Owner,
                        camera: Camera) -> DiscoveryMessage:
    # Bars (0-5), so not the signal_strength device class, which requires dB or dBm.
    return _message(ctx, owner, SENSOR, "wifi_signal", "Wi-Fi signal", {
        "state_topic": ctx.topics.device(DeviceKind.CAMERA, camera.id),
        "value_template": _number_template("wifi_signal"),
        "state_class": "measurement",
        "entity_category": DIAGNOSTIC,
        "icon": "mdi:wifi",
    })


# Bridge entities -----------------------------------------------------------


def _bridge_connection_sensor(ctx: DiscoveryContext, owner: _Owner) -> DiscoveryMessage:
    # No availability: the sensor must stay available to show the bridge offline.
    always_available = replace(owner, availability=None)
    return _message(ctx, always_available, BINARY_SENSOR, "connection", "Connection", {
        "state_topic": ctx.topics.bridge_state,
        "payload_on": ONLINE,
        "payload_off": OFFLINE,
        "device_class": "connectivity",
        "entity_category": DIAGNOSTIC,
    })


def _login_sensor(ctx: DiscoveryContext, owner: _Owner) -> DiscoveryMessage:
    return _message(ctx, owner, SENSOR, "auth", "Blink login", {
        "state_topic": ctx.topics.bridge_auth,
        "value_template": _string_template("state"),
        "device_class": "enum",
        "options": list(AUTH_STATES),
        "json_attributes_topic": ctx.topics.bridge_auth,
        "icon": "mdi:account-key",
    })


def _pin_text(ctx: DiscoveryContext, owner: _Owner) -> DiscoveryMessage:
    # NOTE: without a state topic Home Assistant runs the text entity optimistically
    # and keeps the last PIN entered as its state. A state topic is no way out:
    # any state shorter than min or not matching the pattern fails in Home Assistant.
    # A two-factor code is good for one login, so the kept value is stale afterwards.
    return _message(ctx, owner, TEXT, "pin", "Two-factor PIN", {
        "command_topic": ctx.topics.bridge_request("pin"),
        "command_template": PIN_COMMAND_TEMPLATE,
        "mode": "password",
        "min": PIN_MIN_LENGTH,
        "max": PIN_MAX_LENGTH,
        "pattern": PIN_PATTERN,
        "icon": "mdi:form-textbox-password",
    })


def _refresh_button(ctx: DiscoveryContext, owner: _Owner) -> DiscoveryMessage:
    return _message(ctx, owner, BUTTON, "refresh", "Refresh", {
        "command_topic": ctx.topics.bridge_request("refresh"),
        "payload_press": REFRESH_REQUEST,
        "icon": "mdi:refresh",
    })


def _last_poll_sensor(ctx: DiscoveryContext, owner: _Owner) -> DiscoveryMessage:
    return _message(ctx, owner, SENSOR, "last_poll", "Last poll", {
        "state_topic": ctx.topics.bridge_info,
        "value_template": _string_template("last_poll"),
        "device_class": "timestamp",
        "entity_category": DIAGNOSTIC,
        "json_attributes_topic": ctx.topics.bridge_info,
    })


# Shared building blocks ----------------------------------------------------


def _message(ctx: DiscoveryContext, owner: _Owner, component: str, entity: str,
             name: str | None, options: dict[str, Any]) -> DiscoveryMessage:
    """Wrap one entity's options with the keys every config carries.

    ``name`` None makes the entity the device's main entity, named after the device.
    """
    object_id = f"{owner.key}_{entity}"
    entity_slug = owner.entity_id_prefix if name is None else (
        f"{owner.entity_id_prefix}_{_slugify(name)}")
    payload: dict[str, Any] = {
        "name": name,
        "unique_id": f"{ctx.node_id}_{object_id}",
        "default_entity_id": f"{component}.{entity_slug}",
        # Copies, so a caller editing one payload cannot change another.
        "device": deepcopy(owner.device),
        "origin": _origin(ctx),
    }
    if owner.availability is not None:
        payload["availability"] = deepcopy(owner.availability)
        if len(owner.availability) > 1:
            payload["availability_mode"] = AVAILABILITY_ALL
    payload.update(options)
    topic = ctx.topics.discovery_config(component, ctx.node_id, object_id)
    return DiscoveryMessage(component, object_id, topic, payload)


def _origin(ctx: DiscoveryContext) -> dict[str, str]:
    return {"name": ORIGIN_NAME, "sw_version": ctx.version, "support_url": SUPPORT_URL}


def _on_off_template(field: str) -> str:
    """Return a template mapping a JSON boolean to ON or OFF and anything else to None."""
    value = f"value_json.{field}"
    return (f"{{{{ ('{PAYLOAD_ON}' if {value} else '{PAYLOAD_OFF}') "
            f"if {value} is boolean else '{PAYLOAD_UNKNOWN}' }}}}")


def _number_template(field: str) -> str:
    """Return a template passing a JSON number through and mapping anything else to None."""
    # Jinja counts booleans as numbers, so they are excluded by name.
    value = f"value_json.{field}"
    return (f"{{{{ {value} if {value} is number and {value} is not boolean "
            f"else '{PAYLOAD_UNKNOWN}' }}}}")


def _string_template(field: str) -> str:
    """Return a template passing a JSON string through and mapping anything else to None."""
    value = f"value_json.{field}"
    return f"{{{{ {value} if {value} is string else '{PAYLOAD_UNKNOWN}' }}}}"


def _slugify(text: str) -> str:
    """Return text as an entity id part: ASCII lowercase words joined by underscores."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return _SLUG_SEPARATORS.sub("_", ascii_text).strip("_")
