"""Home Assistant's MQTT discovery schemas for the platforms blink2mqtt uses, as key sets.

Read from the homeassistant 2026.11.0 wheel on PyPI (released 2026-11):
components/mqtt/{schemas,config,const,util}.py, the platform files
components/mqtt/{alarm_control_panel,binary_sensor,button,camera,event,sensor,switch,text}.py,
the entity rules in components/sensor/{const,entity}.py and components/text/entity.py,
the device classes in components/{binary_sensor,button,event,sensor,switch}/const.py,
and EntityCategory and the units in homeassistant/const.py.

Home Assistant silently drops an unknown key from a discovery config, so
``validate`` reports one: it would be an option we think is set but is not.
Beyond Home Assistant's schema, ``validate`` also rejects what the entity raises
on or warns about later: a unit on a non-numeric sensor, a state class that
contradicts the device class, and a default_entity_id in another domain.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Common keys ---------------------------------------------------------------

AVAILABILITY_KEYS = frozenset({
    "availability", "availability_mode", "availability_template", "availability_topic",
    "payload_available", "payload_not_available",
})
# MQTT_ENTITY_COMMON_SCHEMA in mqtt/schemas.py, without the availability keys.
ENTITY_COMMON_KEYS = frozenset({
    "default_entity_id", "device", "enabled_by_default", "entity_category",
    "entity_picture", "icon", "json_attributes_template", "json_attributes_topic",
    "message_expiry_interval", "origin", "unique_id", "visible_by_default",
})
# MQTT_BASE_SCHEMA in mqtt/config.py.
BASE_KEYS = frozenset({"qos", "encoding", "group"})
# MQTT_RO_SCHEMA: platforms that only read a state topic.
READ_ONLY_KEYS = BASE_KEYS | {"state_topic", "value_template"}
# MQTT_RW_SCHEMA: platforms that publish commands and may read a state topic.
READ_WRITE_KEYS = BASE_KEYS | {"command_topic", "optimistic", "retain", "state_topic"}
COMMON_KEYS = AVAILABILITY_KEYS | ENTITY_COMMON_KEYS

DEVICE_KEYS = frozenset({
    "identifiers", "connections", "manufacturer", "model", "model_id", "name",
    "hw_version", "serial_number", "sw_version", "via_device", "suggested_area",
    "configuration_url", "child_device",
})
ORIGIN_KEYS = frozenset({"name", "sw_version", "support_url"})
AVAILABILITY_ENTRY_KEYS = frozenset({
    "topic", "payload_available", "payload_not_available", "value_template",
})
AVAILABILITY_MODES = frozenset({"all", "any", "latest"})
ENTITY_CATEGORIES = frozenset({"config", "diagnostic"})
QOS_LEVELS = frozenset({0, 1, 2})

# Platforms -----------------------------------------------------------------

ALARM_SUPPORTED_FEATURES = frozenset({
    "arm_home", "arm_away", "arm_night", "arm_vacation", "arm_custom_bypass", "trigger",
})
BINARY_SENSOR_DEVICE_CLASSES = frozenset({
    "battery", "battery_charging", "carbon_monoxide", "cold", "connectivity", "door",
    "garage_door", "gas", "glass_break", "heat", "light", "lock", "moisture", "motion",
    "moving", "occupancy", "opening", "plug", "power", "presence", "problem", "running",
    "safety", "smoke", "sound", "tamper", "update", "vibration", "window",
})
BUTTON_DEVICE_CLASSES = frozenset({"identify", "restart", "update"})
EVENT_DEVICE_CLASSES = frozenset({"doorbell", "button", "motion"})
SWITCH_DEVICE_CLASSES = frozenset({"outlet", "switch"})
TEXT_MODES = frozenset({"text", "password"})
TEXT_MAX_LENGTH = 255  # MAX_LENGTH_STATE_STATE, the longest state Home Assistant keeps

SENSOR_STATE_CLASSES = frozenset({
    "measurement", "measurement_angle", "total", "total_increasing",
})
# SensorDeviceClass in sensor/const.py.
SENSOR_DEVICE_CLASSES = frozenset({
    "date", "enum", "timestamp", "uptime", "absolute_humidity", "apparent_power", "aqi",
    "area", "atmospheric_pressure", "battery", "blood_glucose_concentration",
    "carbon_monoxide", "carbon_dioxide", "conductivity", "current", "data_rate",
    "data_size", "distance", "duration", "energy", "energy_distance", "energy_storage",
    "frequency", "gas", "humidity", "illuminance", "irradiance", "moisture", "monetary",
    "nitrogen_dioxide", "nitrogen_monoxide", "nitrous_oxide", "ozone", "ph", "pm1",
    "pm10", "pm25", "pm4", "power_factor", "power", "precipitation",
    "precipitation_intensity", "pressure", "radon", "reactive_energy", "reactive_power",
    "signal_strength", "sound_pressure", "speed", "sulphur_dioxide", "temperature",
    "temperature_delta", "volatile_organic_compounds", "volatile_organic_compounds_parts",
    "voltage", "volume", "volume_storage", "volume_flow_rate", "water", "weight",
    "wind_direction", "wind_speed",
})
NON_NUMERIC_SENSOR_DEVICE_CLASSES = frozenset({"date", "enum", "timestamp", "uptime"})
# DEVICE_CLASS_UNITS, only for the classes blink2mqtt uses or deliberately avoids.
SENSOR_DEVICE_CLASS_UNITS: dict[str, frozenset[str | None]] = {
    "battery": frozenset({"%"}),
    "signal_strength": frozenset({"dB", "dBm"}),
    "temperature": frozenset({"°C", "°F", "K"}),
}
# DEVICE_CLASS_STATE_CLASSES, likewise.
SENSOR_DEVICE_CLASS_STATE_CLASSES: dict[str, frozenset[str]] = {
    "battery": frozenset({"measurement"}),
    "enum": frozenset(),
    "signal_strength": frozenset({"measurement"}),
    "temperature": frozenset({"measurement"}),
    "timestamp": frozenset(),
}

_ENTITY_OBJECT_ID = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")

Problems = list[str]
ValueCheck = Callable[[dict[str, Any]], Problems]


@dataclass(frozen=True, slots=True)
class PlatformSchema:
    """Keys one MQTT platform accepts in discovery, and the checks of their values."""

    keys: frozenset[str]
    required: frozenset[str]
    checks: tuple[ValueCheck, ...] = field(default=())


# Value checks --------------------------------------------------------------


def _check_string(payload: dict[str, Any], key: str, *, nullable: bool = False) -> Problems:
    if key not in payload:
        return []
    value = payload[key]
    if value is None and nullable:
        return []
    if not isinstance(value, str):
        return [f"{key} must be a string, got {value!r}"]
    return []


def _check_bool(payload: dict[str, Any], key: str) -> Problems:
    if key in payload and not isinstance(payload[key], bool):
        return [f"{key} must be a boolean, got {payload[key]!r}"]
    return []


def _check_non_negative_int(payload: dict[str, Any], key: str) -> Problems:
    value = payload.get(key)
    if key in payload and (isinstance(value, bool) or not isinstance(value, int)
                           or value < 0):
        return [f"{key} must be a non-negative integer, got {value!r}"]
    return []


def _check_one_of(payload: dict[str, Any], key: str, allowed: frozenset[Any]) -> Problems:
    if key in payload and payload[key] not in allowed:
        return [f"{key} {payload[key]!r} is not one of {sorted(allowed, key=str)}"]
    return []


def _check_topic(payload: dict[str, Any], key: str, *, publish: bool) -> Problems:
    """Check a topic as mqtt/util.py does: non-empty, no NUL, wildcards only where legal."""
    if key not in payload:
        return []
    topic = payload[key]
    if not isinstance(topic, str) or not topic:
        return [f"{key} must be a non-empty string, got {topic!r}"]
    if "\0" in topic:
        return [f"{key} {topic!r} contains a NUL character"]
    if publish and ("+" in topic or "#" in topic):
        return [f"{key} {topic!r} contains a wildcard, which a publish topic cannot"]
    return []


def _check_device(payload: dict[str, Any]) -> Problems:
    device = payload.get("device")
    if device is None:
        return []
    if not isinstance(device, dict):
        return [f"device must be an object, got {device!r}"]
    problems = [f"device has unknown key {key!r}" for key in sorted(device.keys() - DEVICE_KEYS)]
    identifiers = device.get("identifiers", [])
    if not isinstance(identifiers, list) or not all(isinstance(i, str) for i in identifiers):
        problems.append(f"device identifiers must be a list of strings, got {identifiers!r}")
    if not identifiers and not device.get("connections"):
        problems.append("device needs at least one identifier or connection")
    for key in sorted(DEVICE_KEYS - {"identifiers", "connections", "child_device"}):
        problems += [f"device {problem}" for problem in _check_string(device, key)]
    return problems


def _check_origin(payload: dict[str, Any]) -> Problems:
    origin = payload.get("origin")
    if origin is None:
        return []
    if not isinstance(origin, dict):
        return [f"origin must be an object, got {origin!r}"]
    problems = [f"origin has unknown key {key!r}" for key in sorted(origin.keys() - ORIGIN_KEYS)]
    if "name" not in origin:
        problems.append("origin is missing its required name")
    for key in sorted(ORIGIN_KEYS):
        problems += [f"origin {problem}" for problem in _check_string(origin, key)]
    return problems


def _check_availability(payload: dict[str, Any]) -> Problems:
    problems: Problems = []
    if "availability" in payload and "availability_topic" in payload:
        problems.append("availability and availability_topic exclude each other")
    problems += _check_one_of(payload, "availability_mode", AVAILABILITY_MODES)
    problems += _check_topic(payload, "availability_topic", publish=False)
    entries = payload.get("availability", [])
    if not isinstance(entries, list):
        return problems + [f"availability must be a list, got {entries!r}"]
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problems.append(f"availability[{index}] must be an object, got {entry!r}")
            continue
        unknown = sorted(entry.keys() - AVAILABILITY_ENTRY_KEYS)
        problems += [f"availability[{index}] has unknown key {key!r}" for key in unknown]
        if "topic" not in entry:
            problems.append(f"availability[{index}] is missing its required topic")
        problems += [f"availability[{index}] {problem}"
                     for problem in _check_topic(entry, "topic", publish=False)]
    return problems


def _check_default_entity_id(component: str, payload: dict[str, Any]) -> Problems:
    """Require "<component>.<object id>".

    Home Assistant only warns about another domain and swaps in its own.
    """
    if "default_entity_id" not in payload:
        return []
    value = payload["default_entity_id"]
    if not isinstance(value, str):
        return [f"default_entity_id must be a string, got {value!r}"]
    domain, _, object_id = value.partition(".")
    problems: Problems = []
    if domain != component:
        problems.append(f"default_entity_id {value!r} is not in the {component} domain")
    if not _ENTITY_OBJECT_ID.match(object_id):
        problems.append(f"default_entity_id {value!r} has an invalid object id")
    return problems


def _check_icon(payload: dict[str, Any]) -> Problems:
    if "icon" in payload and ":" not in str(payload["icon"]):
        return [f"icon {payload['icon']!r} must have the form prefix:name"]
    return []


def _check_common(component: str, payload: dict[str, Any]) -> Problems:
    problems = _check_device(payload) + _check_origin(payload) + _check_availability(payload)
    problems += _check_default_entity_id(component, payload)
    problems += _check_icon(payload)
    problems += _check_string(payload, "name", nullable=True)
    problems += _check_string(payload, "unique_id")
    problems += _check_string(payload, "value_template")
    problems += _check_string(payload, "json_attributes_template")
    problems += _check_one_of(payload, "entity_category", ENTITY_CATEGORIES)
    problems += _check_one_of(payload, "qos", QOS_LEVELS)
    problems += _check_bool(payload, "enabled_by_default")
    problems += _check_bool(payload, "visible_by_default")
    problems += _check_bool(payload, "retain")
    problems += _check_bool(payload, "optimistic")
    problems += _check_topic(payload, "state_topic", publish=False)
    problems += _check_topic(payload, "json_attributes_topic", publish=False)
    problems += _check_topic(payload, "command_topic", publish=True)
    return problems


def _no_config_category(payload: dict[str, Any]) -> Problems:
    """Reject the config category, which binary sensors and sensors cannot have."""
    if payload.get("entity_category") == "config":
        return ["entity_category config is not allowed on this platform"]
    return []


def _device_class_in(allowed: frozenset[str]) -> ValueCheck:
    def check(payload: dict[str, Any]) -> Problems:
        if payload.get("device_class") is None:
            return []
        return _check_one_of(payload, "device_class", allowed)
    return check


def _check_alarm_panel(payload: dict[str, Any]) -> Problems:
    features = payload.get("supported_features", [])
    problems: Problems = []
    if not isinstance(features, list):
        return [f"supported_features must be a list, got {features!r}"]
    for feature in features:
        if feature not in ALARM_SUPPORTED_FEATURES:
            problems.append(f"supported_features has unknown feature {feature!r}")
    for key in ("code_arm_required", "code_disarm_required", "code_trigger_required"):
        problems += _check_bool(payload, key)
    return problems


def _check_sensor(payload: dict[str, Any]) -> Problems:
    """Apply sensor.py's option rules and the sensor entity's device class rules."""
    problems = _check_one_of(payload, "state_class", SENSOR_STATE_CLASSES)
    problems += _check_non_negative_int(payload, "suggested_display_precision")
    device_class = payload.get("device_class")
    state_class = payload.get("state_class")
    unit = payload.get("unit_of_measurement")

    options = payload.get("options")
    if options is not None:
        if not options:
            problems.append("options must not be empty")
        if state_class or unit:
            problems.append("options cannot be combined with state_class or a unit")
        if device_class != "enum":
            problems.append("options need device_class enum")

    if device_class in NON_NUMERIC_SENSOR_DEVICE_CLASSES and unit:
        problems.append(f"device_class {device_class} takes no unit, got {unit!r}")
    allowed_units = SENSOR_DEVICE_CLASS_UNITS.get(str(device_class))
    if allowed_units is not None and unit not in allowed_units:
        problems.append(f"unit {unit!r} is not valid for device_class {device_class}")
    allowed_state_classes = SENSOR_DEVICE_CLASS_STATE_CLASSES.get(str(device_class))
    if (state_class is not None and allowed_state_classes is not None
            and state_class not in allowed_state_classes):
        problems.append(f"state_class {state_class} is not valid for device_class {device_class}")
    return problems


def _check_text(payload: dict[str, Any]) -> Problems:
    problems = _check_one_of(payload, "mode", TEXT_MODES)
    problems += _check_non_negative_int(payload, "min")
    problems += _check_non_negative_int(payload, "max")
    minimum = payload.get("min", 0)
    maximum = payload.get("max", TEXT_MAX_LENGTH)
    if isinstance(minimum, int) and isinstance(maximum, int):
        if minimum > maximum:
            problems.append(f"min {minimum} is greater than max {maximum}")
        if maximum > TEXT_MAX_LENGTH:
            problems.append(f"max {maximum} exceeds {TEXT_MAX_LENGTH}")
    if "pattern" in payload:
        try:
            re.compile(payload["pattern"])
        except (re.error, TypeError) as error:
            problems.append(f"pattern {payload['pattern']!r} is not a valid regex: {error}")
    return problems


def _check_event(payload: dict[str, Any]) -> Problems:
    event_types = payload.get("event_types")
    if event_types is None:
        return []
    if not isinstance(event_types, list) or not all(isinstance(t, str) for t in event_types):
        return [f"event_types must be a list of strings, got {event_types!r}"]
    if not event_types:
        return ["event_types must not be empty"]
    return []


def _check_camera(payload: dict[str, Any]) -> Problems:
    problems = _check_topic(payload, "topic", publish=False)
    if "image_encoding" in payload and payload["image_encoding"] != "b64":
        problems.append(f"image_encoding must be b64, got {payload['image_encoding']!r}")
    return problems


def _check_button(payload: dict[str, Any]) -> Problems:
    return _check_string(payload, "payload_press")


def _check_switch(payload: dict[str, Any]) -> Problems:
    problems: Problems = []
    for key in ("payload_on", "payload_off", "state_on", "state_off"):
        problems += _check_string(payload, key)
    return problems


def _check_binary_sensor(payload: dict[str, Any]) -> Problems:
    problems = _check_string(payload, "payload_on") + _check_string(payload, "payload_off")
    problems += _check_non_negative_int(payload, "expire_after")
    problems += _check_non_negative_int(payload, "off_delay")
    return problems


# Schemas per platform ------------------------------------------------------

PLATFORMS: dict[str, PlatformSchema] = {
    "alarm_control_panel": PlatformSchema(
        keys=COMMON_KEYS | BASE_KEYS | {
            "name", "supported_features", "code", "code_arm_required",
            "code_disarm_required", "code_trigger_required", "command_template",
            "command_topic", "payload_arm_away", "payload_arm_home", "payload_arm_night",
            "payload_arm_vacation", "payload_arm_custom_bypass", "payload_disarm",
            "payload_trigger", "retain", "state_topic", "value_template",
        },
        required=frozenset({"command_topic", "state_topic"}),
        checks=(_check_alarm_panel,),
    ),
    "binary_sensor": PlatformSchema(
        keys=COMMON_KEYS | READ_ONLY_KEYS | {
            "device_class", "expire_after", "force_update", "name", "off_delay",
            "payload_off", "payload_on",
        },
        required=frozenset({"state_topic"}),
        checks=(_device_class_in(BINARY_SENSOR_DEVICE_CLASSES), _no_config_category,
                _check_binary_sensor),
    ),
    "button": PlatformSchema(
        keys=COMMON_KEYS | BASE_KEYS | {
            "command_template", "command_topic", "device_class", "name", "payload_press",
            "retain",
        },
        required=frozenset({"command_topic"}),
        checks=(_device_class_in(BUTTON_DEVICE_CLASSES), _check_button),
    ),
    "camera": PlatformSchema(
        keys=COMMON_KEYS | BASE_KEYS | {"name", "topic", "image_encoding"},
        required=frozenset({"topic"}),
        checks=(_check_camera,),
    ),
    "event": PlatformSchema(
        keys=COMMON_KEYS | READ_ONLY_KEYS | {"device_class", "name", "event_types"},
        required=frozenset({"state_topic", "event_types"}),
        checks=(_device_class_in(EVENT_DEVICE_CLASSES), _check_event),
    ),
    "sensor": PlatformSchema(
        keys=COMMON_KEYS | READ_ONLY_KEYS | {
            "device_class", "expire_after", "force_update", "last_reset_value_template",
            "name", "options", "suggested_display_precision", "state_class",
            "unit_of_measurement",
        },
        required=frozenset({"state_topic"}),
        checks=(_device_class_in(SENSOR_DEVICE_CLASSES), _no_config_category,
                _check_sensor),
    ),
    "switch": PlatformSchema(
        keys=COMMON_KEYS | READ_WRITE_KEYS | {
            "command_template", "device_class", "name", "payload_off", "payload_on",
            "state_off", "state_on", "value_template",
        },
        required=frozenset({"command_topic"}),
        checks=(_device_class_in(SWITCH_DEVICE_CLASSES), _check_switch),
    ),
    "text": PlatformSchema(
        keys=COMMON_KEYS | READ_WRITE_KEYS | {
            "command_template", "max", "min", "mode", "name", "pattern", "value_template",
        },
        required=frozenset({"command_topic"}),
        checks=(_check_text,),
    ),
}


def validate(component: str, payload: dict[str, Any]) -> Problems:
    """Return every problem Home Assistant would have with a discovery config; [] if none."""
    schema = PLATFORMS.get(component)
    if schema is None:
        return [f"component {component!r} has no schema here; known: {sorted(PLATFORMS)}"]
    problems = [f"unknown key {key!r}" for key in sorted(payload.keys() - schema.keys)]
    problems += [f"missing required key {key!r}" for key in sorted(schema.required - payload.keys())]
    problems += _check_common(component, payload)
    for check in schema.checks:
        problems += check(payload)
    return problems
