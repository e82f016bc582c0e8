"""Tests of the Home Assistant discovery configs built from networks and cameras."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

import pytest

from blink2mqtt.blink.models import Camera, DeviceFamily, Network, SyncModule, Thumbnail
from blink2mqtt.bridge import discovery
from blink2mqtt.bridge.discovery import (
    DiscoveryContext,
    DiscoveryMessage,
    bridge_discovery,
    camera_discovery,
    network_discovery,
)
from blink2mqtt.bridge.payloads import CameraActivity, camera_payload, network_payload
from blink2mqtt.bridge.topics import Topics

import ha_schemas  # tests/ is on sys.path: pytest's default import mode puts it there

# Home Assistant's discovery topic pattern (TOPIC_MATCHER in mqtt/discovery.py).
DISCOVERY_TOPIC = re.compile(
    r"^homeassistant/(?P<component>\w+)/(?P<node_id>[a-zA-Z0-9_-]+)/"
    r"(?P<object_id>[a-zA-Z0-9_-]+)/config$"
)
ALARM_STATES = {
    "disarmed", "armed_home", "armed_away", "armed_night", "armed_vacation",
    "armed_custom_bypass", "pending", "triggered", "arming", "disarming",
}
CLASSIC_ONLY_ENTITIES = {"battery", "battery_level", "temperature", "wifi_signal"}
EVERY_CAMERA_ENTITIES = {
    "image", "motion_detection", "motion", "online", "last_motion", "event",
    "snapshot", "record", "snooze",
}


# Models --------------------------------------------------------------------


def make_sync_module(**changes: Any) -> SyncModule:
    fields: dict[str, Any] = dict(
        id=301, network_id=12, name="My Blink Sync Module", serial="G8T1V70122151PCQ",
        firmware="16.0.8", model="sm2", status="online", wifi_bars=5,
    )
    fields.update(changes)
    return SyncModule(**fields)


def make_network(**changes: Any) -> Network:
    fields: dict[str, Any] = dict(
        id=12, name="Home", armed=True, time_zone="Europe/Berlin",
        sync_module=make_sync_module(),
    )
    fields.update(changes)
    return Network(**fields)


def make_camera(**changes: Any) -> Camera:
    fields: dict[str, Any] = dict(
        id=4101, network_id=12, family=DeviceFamily.CAMERA, name="Front Yard",
        model="catalina", serial="638241420", firmware="2.151", motion_enabled=True,
        status="done", battery_state="ok", battery_level=3, temperature_f=68.0,
        wifi_bars=4, sync_signal_bars=5,
        thumbnail=Thumbnail(path="/media/thumb/4101", timestamp=1_700_000_000),
        snoozed=False, snooze_time_remaining=None,
    )
    fields.update(changes)
    return Camera(**fields)


def make_mini() -> Camera:
    return make_camera(id=4201, family=DeviceFamily.MINI, name="Living Room", model="owl",
                       battery_state=None, battery_level=None, temperature_f=None,
                       wifi_bars=None, sync_signal_bars=None)


def make_doorbell() -> Camera:
    return make_camera(id=4301, family=DeviceFamily.DOORBELL, name="Door", model="lotus",
                       battery_state=None, battery_level=None, temperature_f=None,
                       wifi_bars=None, sync_signal_bars=None)


def make_unknown_camera() -> Camera:
    """A classic camera for which Blink sent nothing but ids."""
    return make_camera(id=4401, name=None, model=None, serial=None, firmware=None,
                       motion_enabled=None, status=None, battery_state=None,
                       battery_level=None, temperature_f=None, wifi_bars=None,
                       sync_signal_bars=None, thumbnail=None, snoozed=None)


def make_context(base: str = "blink2mqtt", snooze_minutes: int = 240) -> DiscoveryContext:
    return DiscoveryContext(topics=Topics(base=base), version="0.1.0", account_id=777,
                            snooze_minutes=snooze_minutes)


def all_messages(ctx: DiscoveryContext) -> list[DiscoveryMessage]:
    """Return the configs of a bridge with every kind of network and camera."""
    network = make_network()
    bare_network = make_network(id=13, name=None, armed=None, sync_module=None)
    unknown_module_network = make_network(
        id=14, name="Cabin",
        sync_module=make_sync_module(id=302, network_id=14, name=None, serial=None,
                                     firmware=None, model=None, status=None,
                                     wifi_bars=None))
    messages = bridge_discovery(ctx)
    for each_network in (network, bare_network, unknown_module_network):
        messages += network_discovery(ctx, each_network)
    for camera in (make_camera(), make_mini(), make_doorbell(), make_unknown_camera()):
        messages += camera_discovery(ctx, camera, network)
    messages += camera_discovery(ctx, make_camera(id=4501, network_id=99), None)
    return messages


def by_object_id(messages: list[DiscoveryMessage]) -> dict[str, DiscoveryMessage]:
    return {message.object_id: message for message in messages}


def entity_suffixes(messages: list[DiscoveryMessage], prefix: str) -> set[str]:
    return {message.object_id.removeprefix(prefix) for message in messages}


# Schema and identity -------------------------------------------------------


@pytest.mark.parametrize("message", all_messages(make_context()),
                         ids=lambda message: message.object_id)
def test_payload_passes_home_assistant_schema(message: DiscoveryMessage) -> None:
    assert ha_schemas.validate(message.component, message.payload) == []


def test_payloads_serialize_to_json() -> None:
    for message in all_messages(make_context()):
        assert json.loads(json.dumps(message.payload)) == message.payload


def test_topic_matches_home_assistant_pattern() -> None:
    ctx = make_context()
    for message in all_messages(ctx):
        match = DISCOVERY_TOPIC.match(message.topic)
        assert match is not None, message.topic
        assert match["component"] == message.component
        assert match["node_id"] == ctx.node_id
        assert match["object_id"] == message.object_id
        assert message.topic == ctx.topics.discovery_config(
            message.component, ctx.node_id, message.object_id)


def test_unique_ids_unique_and_namespaced() -> None:
    ctx = make_context()
    unique_ids = [message.payload["unique_id"] for message in all_messages(ctx)]
    assert len(unique_ids) == len(set(unique_ids))
    for unique_id in unique_ids:
        assert unique_id.startswith(f"{ctx.node_id}_")


def test_topics_unique() -> None:
    topics = [message.topic for message in all_messages(make_context())]
    assert len(topics) == len(set(topics))


def test_unique_id_format() -> None:
    messages = by_object_id(camera_discovery(make_context(), make_camera(), make_network()))
    assert messages["camera_4101_motion"].payload["unique_id"] == "blink2mqtt_camera_4101_motion"


def test_two_bases_share_nothing() -> None:
    first = all_messages(make_context("blink2mqtt"))
    second = all_messages(make_context("blink2mqtt_work"))
    assert not {m.payload["unique_id"] for m in first} & {m.payload["unique_id"] for m in second}
    assert not {m.topic for m in first} & {m.topic for m in second}
    first_devices = {m.payload["device"]["identifiers"][0] for m in first}
    second_devices = {m.payload["device"]["identifiers"][0] for m in second}
    assert not first_devices & second_devices


def test_node_id_replaces_invalid_characters() -> None:
    ctx = make_context("home/blink 2.cams-x")
    assert ctx.node_id == "home_blink_2_cams-x"
    for message in bridge_discovery(ctx):
        assert DISCOVERY_TOPIC.match(message.topic) is not None


def test_every_payload_has_origin() -> None:
    for message in all_messages(make_context()):
        assert message.payload["origin"] == {
            "name": "blink2mqtt",
            "sw_version": "0.1.0",
            "support_url": "https://github.com/blink2mqtt/blink2mqtt",
        }


def test_payloads_do_not_share_objects() -> None:
    messages = camera_discovery(make_context(), make_camera(), make_network())
    messages[0].payload["device"]["name"] = "changed"
    messages[0].payload["availability"].clear()
    assert messages[1].payload["device"]["name"] == "Front Yard"
    assert len(messages[1].payload["availability"]) == 2


# Availability --------------------------------------------------------------


def test_device_entity_availability() -> None:
    ctx = make_context()
    network = make_network()
    cases = [
        (network_discovery(ctx, network), "blink2mqtt/network/12/availability"),
        (camera_discovery(ctx, make_camera(), network), "blink2mqtt/camera/4101/availability"),
    ]
    for messages, device_topic in cases:
        for message in messages:
            availability = message.payload["availability"]
            assert [entry["topic"] for entry in availability] == [
                "blink2mqtt/bridge/state", device_topic]
            assert message.payload["availability_mode"] == "all"


def test_bridge_entity_availability() -> None:
    messages = by_object_id(bridge_discovery(make_context()))
    for object_id, message in messages.items():
        if object_id == "bridge_connection":
            continue
        assert [entry["topic"] for entry in message.payload["availability"]] == [
            "blink2mqtt/bridge/state"]
        assert "availability_mode" not in message.payload


def test_bridge_connection_has_no_availability() -> None:
    connection = by_object_id(bridge_discovery(make_context()))["bridge_connection"]
    assert "availability" not in connection.payload
    assert "availability_topic" not in connection.payload


def test_availability_payloads_match_topics() -> None:
    messages = camera_discovery(make_context(), make_camera(), make_network())
    for entry in messages[0].payload["availability"]:
        assert entry["payload_available"] == "online"
        assert entry["payload_not_available"] == "offline"


# Devices -------------------------------------------------------------------


def test_bridge_device() -> None:
    for message in bridge_discovery(make_context()):
        assert message.payload["device"] == {
            "identifiers": ["blink2mqtt_bridge"],
            "name": "Blink bridge",
            "manufacturer": "blink2mqtt",
            "model": "Blink to MQTT bridge",
            "sw_version": "0.1.0",
        }


def test_network_device_with_sync_module() -> None:
    device = network_discovery(make_context(), make_network())[0].payload["device"]
    assert device == {
        "identifiers": ["blink2mqtt_network_12"],
        "name": "Home",
        "manufacturer": "Blink",
        "model": "Sync Module sm2",
        "model_id": "sm2",
        "serial_number": "G8T1V70122151PCQ",
        "sw_version": "16.0.8",
        "via_device": "blink2mqtt_bridge",
    }


def test_network_device_without_sync_module() -> None:
    network = make_network(id=13, name=None, sync_module=None)
    device = network_discovery(make_context(), network)[0].payload["device"]
    assert device == {
        "identifiers": ["blink2mqtt_network_13"],
        "name": "Blink network 13",
        "manufacturer": "Blink",
        "model": "Blink network (no sync module)",
        "via_device": "blink2mqtt_bridge",
    }


def test_network_device_unknown_module_fields() -> None:
    module = make_sync_module(serial=None, firmware=None, model=None)
    device = network_discovery(make_context(), make_network(sync_module=module))[0].payload[
        "device"]
    assert device["model"] == "Sync Module"
    assert "model_id" not in device
    assert "serial_number" not in device
    assert "sw_version" not in device


def test_camera_device() -> None:
    device = camera_discovery(make_context(), make_camera(), make_network())[0].payload[
        "device"]
    assert device == {
        "identifiers": ["blink2mqtt_camera_4101"],
        "name": "Front Yard",
        "manufacturer": "Blink",
        "model": "Blink Outdoor",
        "model_id": "catalina",
        "serial_number": "638241420",
        "sw_version": "2.151",
        "via_device": "blink2mqtt_network_12",
    }


def test_camera_device_with_missing_values() -> None:
    device = camera_discovery(make_context(), make_unknown_camera(), make_network())[
        0].payload["device"]
    assert device == {
        "identifiers": ["blink2mqtt_camera_4401"],
        "name": "Blink camera 4401",
        "manufacturer": "Blink",
        "model": "Blink Camera",
        "via_device": "blink2mqtt_network_12",
    }


def test_via_device_chain() -> None:
    ctx = make_context()
    network = make_network()
    bridge_ids = bridge_discovery(ctx)[0].payload["device"]["identifiers"]
    network_device = network_discovery(ctx, network)[0].payload["device"]
    camera_device = camera_discovery(ctx, make_camera(), network)[0].payload["device"]
    assert camera_device["via_device"] in network_device["identifiers"]
    assert network_device["via_device"] in bridge_ids


def test_camera_without_network_uses_bridge() -> None:
    device = camera_discovery(make_context(), make_camera(), None)[0].payload["device"]
    assert device["via_device"] == "blink2mqtt_bridge"


def test_model_names_per_family() -> None:
    ctx = make_context()
    network = make_network()
    cases = [(make_mini(), "Blink Mini"), (make_doorbell(), "Blink Video Doorbell")]
    for camera, model in cases:
        assert camera_discovery(ctx, camera, network)[0].payload["device"]["model"] == model


# Entities present ----------------------------------------------------------


def test_classic_camera_entities() -> None:
    messages = camera_discovery(make_context(), make_camera(), make_network())
    assert entity_suffixes(messages, "camera_4101_") == (
        EVERY_CAMERA_ENTITIES | CLASSIC_ONLY_ENTITIES)


@pytest.mark.parametrize("camera", [make_mini(), make_doorbell()], ids=["mini", "doorbell"])
def test_mini_doorbell_lack_battery_signals(camera: Camera) -> None:
    messages = camera_discovery(make_context(), camera, make_network())
    assert entity_suffixes(messages, f"camera_{camera.id}_") == EVERY_CAMERA_ENTITIES


def test_network_entities_with_sync_module() -> None:
    messages = network_discovery(make_context(), make_network())
    assert [(m.component, m.object_id) for m in messages] == [
        ("alarm_control_panel", "network_12_alarm"),
        ("binary_sensor", "network_12_sync_module"),
        ("button", "network_12_snooze"),
    ]


def test_network_without_module_lacks_sensor() -> None:
    messages = network_discovery(make_context(), make_network(sync_module=None))
    assert [m.object_id for m in messages] == ["network_12_alarm", "network_12_snooze"]


def test_bridge_entities() -> None:
    messages = bridge_discovery(make_context())
    assert [(m.component, m.object_id) for m in messages] == [
        ("binary_sensor", "bridge_connection"),
        ("sensor", "bridge_auth"),
        ("text", "bridge_pin"),
        ("button", "bridge_refresh"),
        ("sensor", "bridge_last_poll"),
    ]


# Names and entity ids ------------------------------------------------------


def test_default_entity_ids_from_names() -> None:
    ctx = make_context()
    network = make_network()
    messages = by_object_id(network_discovery(ctx, network)
                            + camera_discovery(ctx, make_camera(), network)
                            + bridge_discovery(ctx))
    expected = {
        "network_12_alarm": "alarm_control_panel.home",
        "network_12_sync_module": "binary_sensor.home_sync_module",
        "camera_4101_motion": "binary_sensor.front_yard_motion",
        "camera_4101_image": "camera.front_yard",
        "camera_4101_wifi_signal": "sensor.front_yard_wi_fi_signal",
        "camera_4101_snapshot": "button.front_yard_take_snapshot",
        "bridge_connection": "binary_sensor.blink2mqtt_bridge_connection",
        "bridge_pin": "text.blink2mqtt_bridge_two_factor_pin",
    }
    for object_id, entity_id in expected.items():
        assert messages[object_id].payload["default_entity_id"] == entity_id


def test_entity_id_includes_id_without_name() -> None:
    messages = by_object_id(camera_discovery(make_context(), make_unknown_camera(), None))
    assert messages["camera_4401_motion"].payload["default_entity_id"] == (
        "binary_sensor.blink_camera_4401_motion")


def test_entity_id_transliterates_accents() -> None:
    messages = camera_discovery(make_context(), make_camera(name="Küche Süd"), None)
    assert messages[0].payload["default_entity_id"] == "camera.kuche_sud"


def test_entity_id_fallback_for_unsluggable_name() -> None:
    messages = camera_discovery(make_context(), make_camera(name="门口"), None)
    assert messages[0].payload["default_entity_id"] == "camera.camera_4101"


def test_main_entities_take_device_name() -> None:
    ctx = make_context()
    alarm = network_discovery(ctx, make_network())[0]
    image = camera_discovery(ctx, make_camera(), None)[0]
    assert alarm.payload["name"] is None
    assert image.payload["name"] is None


def test_entity_names_omit_device_name() -> None:
    messages = by_object_id(camera_discovery(make_context(), make_camera(), None))
    assert messages["camera_4101_motion"].payload["name"] == "Motion"
    assert messages["camera_4101_last_motion"].payload["name"] == "Last motion"


# Entity options ------------------------------------------------------------


def test_alarm_panel_options() -> None:
    payload = network_discovery(make_context(), make_network())[0].payload
    assert payload["state_topic"] == "blink2mqtt/network/12"
    assert payload["command_topic"] == "blink2mqtt/network/12/set"
    assert payload["payload_arm_away"] == "ARM_AWAY"
    assert payload["payload_disarm"] == "DISARM"
    assert payload["supported_features"] == ["arm_away"]
    assert payload["code_arm_required"] is False
    assert payload["code_disarm_required"] is False
    assert "code" not in payload
    assert "value_json.state" in payload["value_template"]


def test_sync_module_sensor_options() -> None:
    payload = network_discovery(make_context(), make_network())[1].payload
    assert payload["device_class"] == "connectivity"
    assert payload["entity_category"] == "diagnostic"
    assert payload["state_topic"] == "blink2mqtt/network/12"
    assert "value_json.sync_module.online" in payload["value_template"]


def test_snooze_buttons_send_configured_minutes() -> None:
    ctx = make_context(snooze_minutes=60)
    network_snooze = by_object_id(network_discovery(ctx, make_network()))["network_12_snooze"]
    camera_snooze = by_object_id(camera_discovery(ctx, make_camera(), None))["camera_4101_snooze"]
    assert network_snooze.payload["command_topic"] == "blink2mqtt/network/12/snooze"
    assert network_snooze.payload["payload_press"] == "60"
    assert camera_snooze.payload["command_topic"] == "blink2mqtt/camera/4101/snooze"
    assert camera_snooze.payload["payload_press"] == "60"


def test_motion_detection_switch_options() -> None:
    payload = by_object_id(camera_discovery(make_context(), make_camera(), None))[
        "camera_4101_motion_detection"].payload
    assert payload["command_topic"] == "blink2mqtt/camera/4101/set"
    assert json.loads(payload["payload_on"]) == {"motion_detection": True}
    assert json.loads(payload["payload_off"]) == {"motion_detection": False}
    assert payload["state_topic"] == "blink2mqtt/camera/4101"
    assert payload["state_on"] == "ON"
    assert payload["state_off"] == "OFF"


def test_camera_action_buttons() -> None:
    messages = by_object_id(camera_discovery(make_context(), make_camera(), None))
    assert messages["camera_4101_snapshot"].payload["command_topic"] == (
        "blink2mqtt/camera/4101/snapshot")
    assert messages["camera_4101_snapshot"].payload["name"] == "Take snapshot"
    assert messages["camera_4101_record"].payload["command_topic"] == (
        "blink2mqtt/camera/4101/record")
    assert messages["camera_4101_record"].payload["name"] == "Record clip"


def test_camera_entity_reads_raw_image() -> None:
    payload = camera_discovery(make_context(), make_camera(), None)[0].payload
    assert payload["topic"] == "blink2mqtt/camera/4101/image"
    assert "image_encoding" not in payload


def test_event_entity_options() -> None:
    payload = by_object_id(camera_discovery(make_context(), make_camera(), None))[
        "camera_4101_event"].payload
    assert payload["state_topic"] == "blink2mqtt/camera/4101/event"
    assert payload["event_types"] == ["motion", "clip_ready"]
    assert payload["device_class"] == "motion"


def test_classic_camera_sensor_classes() -> None:
    messages = by_object_id(camera_discovery(make_context(), make_camera(), None))
    battery = messages["camera_4101_battery"].payload
    level = messages["camera_4101_battery_level"].payload
    temperature = messages["camera_4101_temperature"].payload
    wifi = messages["camera_4101_wifi_signal"].payload
    last_motion = messages["camera_4101_last_motion"].payload
    assert battery["device_class"] == "battery"
    assert "device_class" not in level
    assert "unit_of_measurement" not in level
    assert level["state_class"] == "measurement"
    assert temperature["device_class"] == "temperature"
    assert temperature["unit_of_measurement"] == "°C"
    assert temperature["state_class"] == "measurement"
    assert "device_class" not in wifi
    assert wifi["icon"] == "mdi:wifi"
    assert last_motion["device_class"] == "timestamp"


def test_diagnostic_entities() -> None:
    ctx = make_context()
    messages = by_object_id(camera_discovery(ctx, make_camera(), None)
                            + bridge_discovery(ctx))
    diagnostic = {object_id for object_id, message in messages.items()
                  if message.payload.get("entity_category") == "diagnostic"}
    assert diagnostic == {
        "camera_4101_online", "camera_4101_battery", "camera_4101_battery_level",
        "camera_4101_wifi_signal", "bridge_connection", "bridge_last_poll",
    }


def test_bridge_connection_options() -> None:
    payload = bridge_discovery(make_context())[0].payload
    assert payload["state_topic"] == "blink2mqtt/bridge/state"
    assert payload["payload_on"] == "online"
    assert payload["payload_off"] == "offline"
    assert payload["device_class"] == "connectivity"


def test_login_sensor_options() -> None:
    payload = by_object_id(bridge_discovery(make_context()))["bridge_auth"].payload
    assert payload["state_topic"] == "blink2mqtt/bridge/auth"
    assert payload["json_attributes_topic"] == "blink2mqtt/bridge/auth"
    assert payload["device_class"] == "enum"
    assert payload["options"] == ["ok", "pin_required", "login_required", "blocked",
                                  "rate_limited", "client_outdated", "connecting", "error"]


def test_pin_text_options() -> None:
    payload = by_object_id(bridge_discovery(make_context()))["bridge_pin"].payload
    assert payload["command_topic"] == "blink2mqtt/bridge/request/pin"
    assert payload["mode"] == "password"
    assert payload["min"] == 4
    assert payload["max"] == 8
    assert "state_topic" not in payload
    assert re.match(payload["pattern"], "123456")
    assert not re.match(payload["pattern"], "12a456")
    assert not re.match(payload["pattern"], "123")


def test_refresh_button_options() -> None:
    payload = by_object_id(bridge_discovery(make_context()))["bridge_refresh"].payload
    assert payload["command_topic"] == "blink2mqtt/bridge/request/refresh"
    assert json.loads(payload["payload_press"]) == {}


def test_last_poll_sensor_options() -> None:
    payload = by_object_id(bridge_discovery(make_context()))["bridge_last_poll"].payload
    assert payload["state_topic"] == "blink2mqtt/bridge/info"
    assert payload["device_class"] == "timestamp"
    assert "value_json.last_poll" in payload["value_template"]


# Template fields -----------------------------------------------------------

CAMERA_TEMPLATE_FIELDS = {
    "motion_detection": "motion_detection",
    "motion": "motion",
    "online": "online",
    "last_motion": "last_motion",
    "battery": "battery_low",
    "battery_level": "battery_level",
    "temperature": "temperature",
    "wifi_signal": "wifi_signal",
}


def test_camera_templates_read_payload_fields() -> None:
    messages = by_object_id(camera_discovery(make_context(), make_camera(), None))
    payload_fields = camera_payload(make_camera()).keys()
    for entity, field in CAMERA_TEMPLATE_FIELDS.items():
        assert field in payload_fields
        template = messages[f"camera_4101_{entity}"].payload["value_template"]
        assert re.search(rf"value_json\.{field}\b", template), template


def test_state_entities_have_templates() -> None:
    for message in all_messages(make_context()):
        payload = message.payload
        if "state_topic" not in payload or message.component == "event":
            continue
        plain_bridge_state = payload["state_topic"].endswith("/bridge/state")
        assert plain_bridge_state or "value_template" in payload, message.object_id


# Template rendering --------------------------------------------------------

LAST_MOTION = datetime(2026, 5, 1, 8, 30, 5, tzinfo=timezone.utc)


def render(template: str, payload: dict[str, Any]) -> str:
    """Render a value template the way Home Assistant's MQTT entities do."""
    sandbox = pytest.importorskip("jinja2.sandbox")
    environment = sandbox.ImmutableSandboxedEnvironment()
    value = json.dumps(payload)
    return str(environment.from_string(template).render(
        value=value, value_json=json.loads(value))).strip()


def camera_templates() -> dict[str, str]:
    messages = by_object_id(camera_discovery(make_context(), make_camera(), None))
    return {entity: messages[f"camera_4101_{entity}"].payload["value_template"]
            for entity in CAMERA_TEMPLATE_FIELDS}


def test_camera_templates_render_known_values() -> None:
    templates = camera_templates()
    activity = CameraActivity(motion=True, last_motion=LAST_MOTION)
    payload = camera_payload(make_camera(), activity=activity)
    assert render(templates["motion_detection"], payload) == "ON"
    assert render(templates["motion"], payload) == "ON"
    assert render(templates["online"], payload) == "ON"
    assert render(templates["battery"], payload) == "OFF"
    assert render(templates["battery_level"], payload) == "3"
    assert float(render(templates["temperature"], payload)) == 20.0
    assert render(templates["wifi_signal"], payload) == "4"
    assert datetime.fromisoformat(render(templates["last_motion"], payload)) == LAST_MOTION


def test_camera_templates_render_false_values() -> None:
    templates = camera_templates()
    camera = make_camera(motion_enabled=False, status="offline", battery_state="low",
                         battery_level=0, wifi_bars=0, temperature_f=32.0)
    payload = camera_payload(camera)
    assert render(templates["motion_detection"], payload) == "OFF"
    assert render(templates["motion"], payload) == "OFF"
    assert render(templates["online"], payload) == "OFF"
    assert render(templates["battery"], payload) == "ON"
    assert render(templates["battery_level"], payload) == "0"
    assert render(templates["wifi_signal"], payload) == "0"
    assert float(render(templates["temperature"], payload)) == 0.0


def test_camera_templates_render_null_as_unknown() -> None:
    templates = camera_templates()
    payload = camera_payload(make_unknown_camera())
    for entity in ("motion_detection", "online", "battery", "battery_level",
                   "temperature", "wifi_signal", "last_motion"):
        assert render(templates[entity], payload) == "None", entity


def test_templates_render_missing_field_as_unknown() -> None:
    for entity, template in camera_templates().items():
        assert render(template, {}) == "None", entity


def test_number_templates_reject_booleans() -> None:
    templates = camera_templates()
    assert render(templates["temperature"], {"temperature": True}) == "None"
    assert render(templates["battery_level"], {"battery_level": False}) == "None"


def test_on_off_templates_reject_non_booleans() -> None:
    templates = camera_templates()
    assert render(templates["motion"], {"motion": "yes"}) == "None"
    assert render(templates["online"], {"online": 1}) == "None"


def test_alarm_template_renders_network_states() -> None:
    template = network_discovery(make_context(), make_network())[0].payload["value_template"]
    cases = [
        (network_payload(make_network(armed=True)), "armed_away"),
        (network_payload(make_network(armed=False)), "disarmed"),
        (network_payload(make_network(armed=False), transition="arming"), "arming"),
        (network_payload(make_network(armed=True), transition="disarming"), "disarming"),
        (network_payload(make_network(armed=None)), "None"),
    ]
    for payload, expected in cases:
        rendered = render(template, payload)
        assert rendered == expected
        assert rendered in ALARM_STATES | {"None"}


def test_sync_module_template_renders_status() -> None:
    template = network_discovery(make_context(), make_network())[1].payload["value_template"]
    cases = [
        (make_network(), "ON"),
        (make_network(sync_module=make_sync_module(status="offline")), "OFF"),
        (make_network(sync_module=make_sync_module(status=None)), "None"),
        (make_network(sync_module=None), "None"),
    ]
    for network, expected in cases:
        assert render(template, network_payload(network)) == expected


def test_bridge_templates_render() -> None:
    messages = by_object_id(bridge_discovery(make_context()))
    login = messages["bridge_auth"].payload
    last_poll = messages["bridge_last_poll"].payload["value_template"]
    assert render(login["value_template"], {"state": "pin_required"}) == "pin_required"
    assert render(login["value_template"], {"state": None}) == "None"
    assert render(login["value_template"], {}) == "None"
    assert render(last_poll, {"last_poll": "2026-05-01T08:30:05+00:00"}) == (
        "2026-05-01T08:30:05+00:00")
    assert render(last_poll, {"last_poll": None}) == "None"


def test_rendered_states_match_entity_payloads() -> None:
    """Every rendered state is one the entity accepts, for full and empty payloads."""
    ctx = make_context()
    messages = camera_discovery(ctx, make_camera(), None)
    payloads = [camera_payload(make_camera()), camera_payload(make_unknown_camera()), {}]
    for message in messages:
        template = message.payload.get("value_template")
        if template is None:
            continue
        for payload in payloads:
            rendered = render(template, payload)
            accepted = accepted_states(message)
            if accepted is not None:
                assert rendered in accepted, (message.object_id, rendered)


def accepted_states(message: DiscoveryMessage) -> set[str] | None:
    """Return the states an on/off entity accepts, or None for free-form values."""
    payload = message.payload
    if message.component == "binary_sensor":
        return {payload.get("payload_on", "ON"), payload.get("payload_off", "OFF"), "None"}
    if message.component == "switch":
        return {payload["state_on"], payload["state_off"], "None"}
    return None


def test_pin_command_template_renders_json() -> None:
    pin = by_object_id(bridge_discovery(make_context()))["bridge_pin"].payload
    rendered = render(pin["command_template"].replace("value", "value_json.pin"),
                      {"pin": "012345"})
    assert json.loads(rendered) == {"pin": "012345"}


# The validator itself ------------------------------------------------------


def valid_sensor() -> dict[str, Any]:
    return dict(by_object_id(bridge_discovery(make_context()))["bridge_last_poll"].payload)


def test_validator_rejects_unknown_key() -> None:
    payload = valid_sensor() | {"stat_t": "x"}
    assert ha_schemas.validate("sensor", payload) == ["unknown key 'stat_t'"]


def test_validator_rejects_missing_required_key() -> None:
    payload = valid_sensor()
    del payload["state_topic"]
    assert ha_schemas.validate("sensor", payload) == ["missing required key 'state_topic'"]


def test_validator_rejects_unit_on_timestamp() -> None:
    payload = valid_sensor() | {"unit_of_measurement": "s"}
    assert ha_schemas.validate("sensor", payload) == [
        "device_class timestamp takes no unit, got 's'"]


def test_validator_rejects_state_class_on_timestamp() -> None:
    payload = valid_sensor() | {"state_class": "measurement"}
    assert ha_schemas.validate("sensor", payload) == [
        "state_class measurement is not valid for device_class timestamp"]


def test_validator_rejects_wrong_unit_for_class() -> None:
    payload = valid_sensor() | {"device_class": "signal_strength",
                                "default_entity_id": "sensor.x"}
    assert ha_schemas.validate("sensor", payload) == [
        "unit None is not valid for device_class signal_strength"]


def test_validator_rejects_options_without_enum() -> None:
    payload = valid_sensor() | {"options": ["a"]}
    assert ha_schemas.validate("sensor", payload) == ["options need device_class enum"]


def test_validator_rejects_config_sensor() -> None:
    payload = valid_sensor() | {"entity_category": "config"}
    assert ha_schemas.validate("sensor", payload) == [
        "entity_category config is not allowed on this platform"]


def test_validator_rejects_bad_device_class() -> None:
    payload = dict(bridge_discovery(make_context())[0].payload) | {"device_class": "wifi"}
    problems = ha_schemas.validate("binary_sensor", payload)
    assert len(problems) == 1
    assert problems[0].startswith("device_class 'wifi' is not one of")


def test_validator_rejects_foreign_entity_domain() -> None:
    payload = valid_sensor() | {"default_entity_id": "binary_sensor.last_poll"}
    assert ha_schemas.validate("sensor", payload) == [
        "default_entity_id 'binary_sensor.last_poll' is not in the sensor domain"]


def test_validator_rejects_text_min_above_max() -> None:
    payload = dict(by_object_id(bridge_discovery(make_context()))["bridge_pin"].payload)
    payload |= {"min": 9}
    assert ha_schemas.validate("text", payload) == ["min 9 is greater than max 8"]


def test_validator_rejects_null_device_field() -> None:
    payload = valid_sensor()
    payload["device"] = payload["device"] | {"serial_number": None}
    assert ha_schemas.validate("sensor", payload) == [
        "device serial_number must be a string, got None"]


def test_validator_rejects_wildcard_command_topic() -> None:
    payload = dict(by_object_id(bridge_discovery(make_context()))["bridge_refresh"].payload)
    payload["command_topic"] = "blink2mqtt/+/refresh"
    problems = ha_schemas.validate("button", payload)
    assert problems == ["command_topic 'blink2mqtt/+/refresh' contains a wildcard, "
                        "which a publish topic cannot"]


def test_validator_rejects_unknown_alarm_feature() -> None:
    payload = dict(network_discovery(make_context(), make_network())[0].payload)
    payload["supported_features"] = ["arm_away", "arm_everything"]
    assert ha_schemas.validate("alarm_control_panel", payload) == [
        "supported_features has unknown feature 'arm_everything'"]


def test_validator_knows_every_used_component() -> None:
    components = {message.component for message in all_messages(make_context())}
    assert components <= ha_schemas.PLATFORMS.keys()
    assert components == {
        discovery.ALARM_CONTROL_PANEL, discovery.BINARY_SENSOR, discovery.BUTTON,
        discovery.CAMERA, discovery.EVENT, discovery.SENSOR, discovery.SWITCH,
        discovery.TEXT,
    }
