"""Packaging and docs: every deployment file parses and agrees with the code.

The add-on, the container files, the examples and the docs are checked against
the config schema, the topic contract and the discovery functions, so a change
in the code that they do not follow fails here. The health check runs against
a real mosquitto.
"""

from __future__ import annotations

import configparser
import fnmatch
import getpass
import importlib.util
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import paho.mqtt.publish as mqtt_publish
import pytest
import voluptuous as vol
import yaml

import blink2mqtt
from blink2mqtt import cli
from blink2mqtt.blink.parsing import parse_homescreen
from blink2mqtt.bridge.auth import AuthState
from blink2mqtt.bridge.commands import Reason
from blink2mqtt.bridge.discovery import (
    CAMERA_EVENT_TYPES,
    DiscoveryContext,
    bridge_discovery,
    camera_discovery,
    network_discovery,
)
from blink2mqtt.bridge.topics import BRIDGE_REQUESTS, Action, DeviceKind, Topics
from blink2mqtt.broker import PrivateBroker, find_mosquitto, free_port, port_is_open
from blink2mqtt.config import (
    CONFIG_SCHEMA,
    MIN_POLL_INTERVAL_SECONDS,
    load_config,
    validate_config,
)
from blink2mqtt.simulator.commands import CommandTiming
from blink2mqtt.simulator.demo_account import (
    DEMO_ACCOUNT_ID,
    demo_identity,
    populate_demo_account,
)
from blink2mqtt.simulator.state import AccountState
from blink2mqtt.simulator.views import homescreen_json

from conftest import BridgeThread

ROOT = Path(__file__).resolve().parent.parent
ADDON = ROOT / "homeassistant" / "blink2mqtt"
OPTIONS_TO_CONFIG = ADDON / "options_to_config.py"
NODE_RED_FLOW = ROOT / "examples" / "node-red-flow.json"

YAML_FILES = [
    "homeassistant/repository.yaml",
    "homeassistant/blink2mqtt/config.yaml",
    "homeassistant/blink2mqtt/build.yaml",
    "homeassistant/blink2mqtt/translations/en.yaml",
    "homeassistant/dashboard.yaml",
    "docker-compose.example.yml",
    "config.yaml.example",
]


# Helpers -----------------------------------------------------------------------


class BlueprintLoader(yaml.SafeLoader):
    """A safe loader that reads Home Assistant's ``!input name`` tag as InputRef."""


class InputRef(str):
    """The name of a blueprint input referenced with ``!input``."""


BlueprintLoader.add_constructor(
    "!input", lambda loader, node: InputRef(loader.construct_scalar(node)))


def load_yaml(relative: str) -> Any:
    return yaml.safe_load((ROOT / relative).read_text(encoding="utf-8"))


def clean_environment() -> dict[str, str]:
    """Return os.environ without the variables that override config keys."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith(("BLINK2MQTT_", "ADDON_MQTT_"))}


def walk_schema(schema: vol.Schema, prefix: tuple[str, ...] = ()
                ) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    """Yield (key path, default or vol.UNDEFINED, validator) for every leaf key."""
    for marker, validator in schema.schema.items():
        path = prefix + (str(marker.schema),)
        if isinstance(validator, vol.Schema):
            yield from walk_schema(validator, path)
        else:
            default = marker.default() if marker.default is not vol.UNDEFINED else vol.UNDEFINED
            yield path, default, validator


SCHEMA_KEYS = {".".join(path): (default, validator)
               for path, default, validator in walk_schema(CONFIG_SCHEMA)}


def value_at(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return vol.UNDEFINED
        data = data[part]
    return data


def find_in_validator(validator: Any, kind: type) -> Any:
    """Return the first validator of ``kind`` nested in All/Any, or None."""
    if isinstance(validator, kind):
        return validator
    for inner in getattr(validator, "validators", ()):
        found = find_in_validator(inner, kind)
        if found is not None:
            return found
    return None


def demo_default_entity_ids() -> set[str]:
    """Return the default entity ids that discovery produces for the demo account."""
    state = AccountState(demo_identity(), CommandTiming())
    populate_demo_account(state)
    homescreen = parse_homescreen(homescreen_json(state), account_id=DEMO_ACCOUNT_ID)
    context = DiscoveryContext(topics=Topics(), version=blink2mqtt.__version__, account_id=None)
    messages = bridge_discovery(context)
    networks = {network.id: network for network in homescreen.networks}
    for network in homescreen.networks:
        messages += network_discovery(context, network)
    for camera in homescreen.cameras:
        messages += camera_discovery(context, camera, networks.get(camera.network_id))
    return {message.payload["default_entity_id"] for message in messages}


def collect_entity_ids(node: Any) -> list[str]:
    """Return every entity id a Lovelace config refers to (entity, entity_id, entities)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("entity", "entity_id") and isinstance(value, str):
                found.append(value)
            elif key in ("entity_id", "entities") and isinstance(value, list):
                for item in value:
                    if isinstance(item, str):
                        found.append(item)
                    else:
                        found += collect_entity_ids(item)
            else:
                found += collect_entity_ids(value)
    elif isinstance(node, list):
        for item in node:
            found += collect_entity_ids(item)
    return found


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """Return (INSTRUCTION, arguments) pairs, with continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, arguments = full.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def run_options_to_config(tmp_path: Path, options: dict[str, Any],
                          environ: dict[str, str] | None = None
                          ) -> tuple[subprocess.CompletedProcess[str], Path]:
    options_file = tmp_path / "options.json"
    options_file.write_text(json.dumps(options), encoding="utf-8")
    output = tmp_path / "data" / "config.yaml"
    env = clean_environment()
    env.update(environ or {})
    result = subprocess.run([sys.executable, str(OPTIONS_TO_CONFIG), str(options_file),
                             str(output)], capture_output=True, text=True, env=env, timeout=60)
    return result, output


def addon_manifest() -> dict[str, Any]:
    return load_yaml("homeassistant/blink2mqtt/config.yaml")


# Every file parses -----------------------------------------------------------


@pytest.mark.parametrize("relative", YAML_FILES)
def test_yaml_file_parses(relative: str) -> None:
    data = load_yaml(relative)
    assert isinstance(data, dict), f"{relative} is not a YAML mapping"


def test_blueprint_parses() -> None:
    text = (ROOT / "homeassistant/blueprints/blink_motion_snapshot.yaml").read_text("utf-8")
    data = yaml.load(text, Loader=BlueprintLoader)
    assert data["blueprint"]["domain"] == "automation"


def test_node_red_flow_parses() -> None:
    nodes = json.loads(NODE_RED_FLOW.read_text(encoding="utf-8"))
    assert isinstance(nodes, list)
    assert all(isinstance(node, dict) for node in nodes)


# Home Assistant add-on ---------------------------------------------------------

ADDON_TYPE = re.compile(
    r"^(str|bool|email|url|password|port|device)(\(.*\))?\??$"
    r"|^(int|float)(\((-?[\d.]*),(-?[\d.]*)\))?\??$"
    r"|^match\(.+\)\??$"
    r"|^list\([^|()]+(\|[^|()]+)*\)\??$")


def addon_value_matches(type_text: str, value: Any) -> bool:
    """Check a default option against an add-on schema type, as the Supervisor would."""
    base = type_text.rstrip("?")
    if base in ("str", "password"):
        return isinstance(value, str)
    if base == "bool":
        return isinstance(value, bool)
    if base == "port":
        return isinstance(value, int) and 1 <= value <= 65535
    number = re.fullmatch(r"(int|float)(?:\((-?[\d.]*),(-?[\d.]*)\))?", base)
    if number:
        kind, low, high = number.groups()
        if kind == "int" and (not isinstance(value, int) or isinstance(value, bool)):
            return False
        if low and value < float(low):
            return False
        return not (high and value > float(high))
    listed = re.fullmatch(r"list\((.+)\)", base)
    if listed:
        return value in listed.group(1).split("|")
    pattern = re.fullmatch(r"match\((.+)\)", base)
    if pattern:
        return isinstance(value, str) and re.fullmatch(pattern.group(1), value) is not None
    return False


def test_addon_manifest_required_fields() -> None:
    manifest = addon_manifest()
    for key in ("name", "version", "slug", "description", "arch"):
        assert manifest.get(key), f"config.yaml lacks {key}"
    assert manifest["slug"] == ADDON.name
    assert manifest["init"] is False
    assert "mqtt:need" in manifest["services"]


def test_addon_version_matches_package() -> None:
    assert addon_manifest()["version"] == blink2mqtt.__version__


def test_addon_maps_media_writable() -> None:
    maps = {entry["type"]: entry for entry in addon_manifest()["map"]}
    assert "media" in maps
    assert maps["media"].get("read_only") is False


def test_addon_schema_types_are_known() -> None:
    for option, type_text in addon_manifest()["schema"].items():
        assert ADDON_TYPE.match(type_text), f"schema type of {option} is {type_text!r}"


def test_addon_options_all_in_schema() -> None:
    manifest = addon_manifest()
    assert set(manifest["options"]) <= set(manifest["schema"])


def test_addon_required_options_have_defaults() -> None:
    manifest = addon_manifest()
    required = {key for key, type_text in manifest["schema"].items() if not type_text.endswith("?")}
    optional = set(manifest["schema"]) - required
    assert required == set(manifest["options"])
    # The Supervisor treats an optional option with a default as required.
    assert not optional & set(manifest["options"])


def test_addon_defaults_satisfy_schema() -> None:
    manifest = addon_manifest()
    for option, value in manifest["options"].items():
        type_text = manifest["schema"][option]
        assert addon_value_matches(type_text, value), f"{option}: {value!r} is not {type_text}"


def test_addon_schema_rejects_fast_polling() -> None:
    poll_type = addon_manifest()["schema"]["poll_interval"]
    assert addon_value_matches(poll_type, MIN_POLL_INTERVAL_SECONDS)
    assert not addon_value_matches(poll_type, MIN_POLL_INTERVAL_SECONDS - 1)


def test_addon_log_levels_match_config() -> None:
    _default, validator = SCHEMA_KEYS["logging.level"]
    allowed = find_in_validator(validator, vol.In).container
    type_text = addon_manifest()["schema"]["log_level"]
    assert type_text == f"list({'|'.join(allowed)})"


def test_addon_defaults_equal_config_defaults() -> None:
    sys.path.insert(0, str(ADDON))
    try:
        import options_to_config
    finally:
        sys.path.remove(str(ADDON))
    options = addon_manifest()["options"]
    for option, (section, key) in options_to_config.DIRECT_OPTIONS.items():
        default, _validator = SCHEMA_KEYS[f"{section}.{key}"]
        assert options[option] == default, f"add-on default of {option} differs from {section}.{key}"


def test_addon_translations_cover_schema() -> None:
    translations = load_yaml("homeassistant/blink2mqtt/translations/en.yaml")["configuration"]
    schema = addon_manifest()["schema"]
    assert set(translations) == set(schema)
    for option, entry in translations.items():
        assert entry.get("name"), f"translation of {option} has no name"
        assert entry.get("description"), f"translation of {option} has no description"


def test_addon_build_covers_every_arch() -> None:
    build = load_yaml("homeassistant/blink2mqtt/build.yaml")
    assert set(build["build_from"]) == set(addon_manifest()["arch"])
    for image in build["build_from"].values():
        assert "base-python" in image


def test_addon_dockerfile() -> None:
    instructions = dockerfile_instructions(ADDON / "Dockerfile")
    assert instructions[0] == ("ARG", "BUILD_FROM")
    assert instructions[1] == ("FROM", "${BUILD_FROM}")
    copies = [arguments for keyword, arguments in instructions if keyword == "COPY"]
    for copied in ("options_to_config.py", "run.sh"):
        assert any(arguments.startswith(copied) for arguments in copies), f"{copied} not copied"
        assert (ADDON / copied).is_file()
    assert ("CMD", '[ "/run.sh" ]') in instructions


def test_addon_run_script() -> None:
    script = ADDON / "run.sh"
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/with-contenv bashio\n")
    assert script.stat().st_mode & stat.S_IXUSR
    for variable in ("host", "port", "username", "password"):
        assert f"bashio::services mqtt '{variable}'" in text
    assert "options_to_config.py" in text
    assert 'exec blink2mqtt run -c "${CONFIG_FILE}"' in text
    assert "CONFIG_FILE=/data/config.yaml" in text


def test_addon_run_script_syntax() -> None:
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    result = subprocess.run(["bash", "-n", str(ADDON / "run.sh")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# options_to_config.py ----------------------------------------------------------

SERVICE_ENVIRONMENT = {
    "ADDON_MQTT_HOST": "core-mosquitto",
    "ADDON_MQTT_PORT": "1883",
    "ADDON_MQTT_USERNAME": "addons",
    "ADDON_MQTT_PASSWORD": "service-secret",
    "ADDON_MQTT_SSL": "false",
}


def test_options_default_produce_valid_config(tmp_path: Path) -> None:
    result, output = run_options_to_config(tmp_path, addon_manifest()["options"],
                                           SERVICE_ENVIRONMENT)
    assert result.returncode == 0, result.stderr
    config = load_config(output, environ={})
    assert config.mqtt["host"] == "core-mosquitto"
    assert config.mqtt["port"] == 1883
    assert config.mqtt["username"] == "addons"
    assert config.mqtt["password"] == "service-secret"
    assert config.mqtt["tls"]["enabled"] is False
    assert config.blink.get("email") is None
    assert config.blink.get("password") is None
    assert config.blink["token_file"] == str(output.parent / "blink2mqtt-tokens.json")
    assert config.media["seen_file"] == str(output.parent / "blink2mqtt-media.json")
    assert config.media.get("download_dir") is None


def test_options_output_readable_by_owner_only(tmp_path: Path) -> None:
    result, output = run_options_to_config(tmp_path, addon_manifest()["options"],
                                           SERVICE_ENVIRONMENT)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(output.stat().st_mode) == 0o600


def test_options_every_value_reaches_config(tmp_path: Path) -> None:
    options = {
        "email": " user@example.com ", "password": "blink-secret", "poll_interval": 120,
        "base_topic": "home/blink", "discovery": False, "discovery_prefix": "ha",
        "log_level": "debug", "snooze_minutes": 30, "motion_hold_time": 10,
        "snapshot_min_interval": 300, "download_clips": True, "retention_days": 7,
        "retention_max_mb": 500,
    }
    result, output = run_options_to_config(tmp_path, options, SERVICE_ENVIRONMENT)
    assert result.returncode == 0, result.stderr
    config = load_config(output, environ={})
    assert config.blink["email"] == "user@example.com"
    assert config.blink["password"] == "blink-secret"
    assert config.bridge["poll_interval"] == 120
    assert config.bridge["snooze_minutes"] == 30
    assert config.mqtt["base_topic"] == "home/blink"
    assert config.homeassistant["discovery"] is False
    assert config.homeassistant["discovery_prefix"] == "ha"
    assert config.logging["level"] == "debug"
    assert config.media["motion_hold_time"] == 10
    assert config.media["snapshot_min_interval"] == 300
    assert config.media["download_dir"] == "/media/blink2mqtt"
    assert config.media["retention_days"] == 7
    assert config.media["retention_max_mb"] == 500


def test_options_external_broker_beats_service(tmp_path: Path) -> None:
    options = dict(addon_manifest()["options"], mqtt_host="broker.example.net",
                   mqtt_port=8884, mqtt_username="blink", mqtt_password="own-secret")
    result, output = run_options_to_config(tmp_path, options, SERVICE_ENVIRONMENT)
    assert result.returncode == 0, result.stderr
    config = load_config(output, environ={})
    assert config.mqtt["host"] == "broker.example.net"
    assert config.mqtt["port"] == 8884
    assert config.mqtt["username"] == "blink"
    assert config.mqtt["password"] == "own-secret"


def test_options_service_tls_enables_tls(tmp_path: Path) -> None:
    environ = dict(SERVICE_ENVIRONMENT, ADDON_MQTT_SSL="true", ADDON_MQTT_PORT="8883")
    result, output = run_options_to_config(tmp_path, addon_manifest()["options"], environ)
    assert result.returncode == 0, result.stderr
    config = load_config(output, environ={})
    assert config.mqtt["tls"]["enabled"] is True
    assert config.mqtt["port"] == 8883


def test_options_without_service_use_mosquitto_addon(tmp_path: Path) -> None:
    result, output = run_options_to_config(tmp_path, addon_manifest()["options"], {})
    assert result.returncode == 0, result.stderr
    config = load_config(output, environ={})
    assert config.mqtt["host"] == "core-mosquitto"
    assert config.mqtt["port"] == 1883
    assert config.mqtt.get("username") is None


def test_options_unknown_option_ignored(tmp_path: Path) -> None:
    options = dict(addon_manifest()["options"], removed_option=1)
    result, output = run_options_to_config(tmp_path, options, SERVICE_ENVIRONMENT)
    assert result.returncode == 0, result.stderr
    assert "removed_option" in result.stderr
    load_config(output, environ={})


def test_options_missing_file_fails(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(OPTIONS_TO_CONFIG), str(tmp_path / "none.json"),
                             str(tmp_path / "config.yaml")], capture_output=True, text=True,
                            env=clean_environment(), timeout=60)
    assert result.returncode == 1
    assert "does not exist" in result.stderr
    assert not (tmp_path / "config.yaml").exists()


def test_options_invalid_port_fails(tmp_path: Path) -> None:
    environ = dict(SERVICE_ENVIRONMENT, ADDON_MQTT_PORT="mqtt")
    result, output = run_options_to_config(tmp_path, addon_manifest()["options"], environ)
    assert result.returncode == 1
    assert "ADDON_MQTT_PORT" in result.stderr
    assert not output.exists()


# Container image ---------------------------------------------------------------


def test_dockerfile_base_user_healthcheck() -> None:
    instructions = dockerfile_instructions(ROOT / "Dockerfile")
    keywords = [keyword for keyword, _arguments in instructions]
    assert instructions[0] == ("FROM", "python:3.11-slim")
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users, "the image must switch to a non-root user"
    assert users[-1] not in ("root", "0")
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")
    volumes = [arguments for keyword, arguments in instructions if keyword == "VOLUME"]
    assert volumes == ['["/config"]']


def test_dockerfile_healthcheck_runs_module() -> None:
    instructions = dict(dockerfile_instructions(ROOT / "Dockerfile"))
    healthcheck = instructions["HEALTHCHECK"]
    assert "--timeout=" in healthcheck
    assert '"blink2mqtt.healthcheck"' in healthcheck
    assert '"/config/config.yaml"' in healthcheck
    assert importlib.util.find_spec("blink2mqtt.healthcheck") is not None
    assert instructions["CMD"] == '["run", "-c", "/config/config.yaml"]'


def test_dockerfile_copies_existing_sources() -> None:
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text("utf-8").splitlines()
               if line.strip() and not line.startswith("#")]
    for keyword, arguments in dockerfile_instructions(ROOT / "Dockerfile"):
        if keyword != "COPY":
            continue
        for source in arguments.split()[:-1]:
            assert (ROOT / source).exists(), f"COPY source {source} does not exist"
            assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), \
                f".dockerignore excludes {source}"


def test_dockerignore_keeps_secrets_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text("utf-8").splitlines()
    for pattern in ("config.yaml", "*-tokens.json", ".git", "tests"):
        assert pattern in ignored


def test_compose_services() -> None:
    compose = load_yaml("docker-compose.example.yml")
    services = compose["services"]
    assert services["mosquitto"]["image"].startswith("eclipse-mosquitto")
    assert services["blink2mqtt"]["build"] == "."
    assert any(volume.endswith(":/config") for volume in services["blink2mqtt"]["volumes"])
    conf_mounts = [volume for volume in services["mosquitto"]["volumes"]
                   if volume.startswith("./")]
    for mount in conf_mounts:
        assert (ROOT / mount.split(":")[0]).is_file(), f"{mount} names a missing file"
    for port in services["mosquitto"].get("ports", []):
        assert port.startswith("127.0.0.1:"), f"port {port} is open to the network"


def test_mosquitto_conf_starts_mosquitto(tmp_path: Path) -> None:
    """Run the example config with a loopback listener and a temporary data folder."""
    binary = find_mosquitto()
    if binary is None:
        pytest.fail("mosquitto is not installed; .ci/run installs it (apt-get install mosquitto)")
    port = free_port()
    lines = []
    for line in (ROOT / "examples" / "mosquitto.conf").read_text("utf-8").splitlines():
        if line.startswith("listener "):
            line = f"listener {port} 127.0.0.1"
        elif line.startswith("persistence_location "):
            line = f"persistence_location {tmp_path}/"
        lines.append(line)
    assert any(line.strip() == "persistence true" for line in lines)
    config = tmp_path / "mosquitto.conf"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    process = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not port_is_open("127.0.0.1", port, 0.2):
            if process.poll() is not None:
                break
            time.sleep(0.1)
        assert process.poll() is None, process.communicate()[0].decode(errors="replace")
        assert port_is_open("127.0.0.1", port)
    finally:
        process.terminate()
        process.wait(10)


# systemd unit -----------------------------------------------------------------


def read_unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(ROOT / "examples" / "blink2mqtt.service", encoding="utf-8")
    return parser


def test_systemd_unit_sections() -> None:
    unit = read_unit()
    assert set(unit.sections()) == {"Unit", "Service", "Install"}
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert "network-online.target" in unit["Unit"]["After"]


def test_systemd_unit_runs_bridge() -> None:
    service = read_unit()["Service"]
    assert service["ExecStart"].endswith("blink2mqtt run -c /etc/blink2mqtt/config.yaml")
    assert service["Restart"] == "on-failure"
    assert float(service["RestartSec"]) > 0
    assert service["RestartPreventExitStatus"] == str(cli.EXIT_CONFIG)
    assert service["User"] not in ("root", "0")


def test_systemd_unit_hardening() -> None:
    service = read_unit()["Service"]
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["WorkingDirectory"] in service["ReadWritePaths"].split()
    assert service["ProtectHome"] == "yes"
    assert service["PrivateTmp"] == "yes"


# Node-RED flow ----------------------------------------------------------------

CONFIG_NODE_TYPES = {"tab", "mqtt-broker"}


def flow_nodes() -> list[dict[str, Any]]:
    return json.loads(NODE_RED_FLOW.read_text(encoding="utf-8"))


def test_node_red_ids_and_wires() -> None:
    nodes = flow_nodes()
    ids = [node["id"] for node in nodes]
    assert len(ids) == len(set(ids)), "node ids are not unique"
    tabs = {node["id"] for node in nodes if node["type"] == "tab"}
    assert len(tabs) == 1
    for node in nodes:
        assert node.get("type"), f"node {node['id']} has no type"
        if node["type"] in CONFIG_NODE_TYPES:
            continue
        assert node["z"] in tabs, f"node {node['id']} is not on the tab"
        assert isinstance(node["wires"], list), f"node {node['id']} has no wires"
        for output in node["wires"]:
            for target in output:
                assert target in ids, f"node {node['id']} is wired to unknown {target}"
        if "outputs" in node:
            assert len(node["wires"]) == node["outputs"], f"node {node['id']} outputs"


def test_node_red_mqtt_topics_follow_contract() -> None:
    nodes = flow_nodes()
    brokers = {node["id"] for node in nodes if node["type"] == "mqtt-broker"}
    assert len(brokers) == 1
    topics = Topics()
    subscriptions = {node["topic"] for node in nodes if node["type"] == "mqtt in"}
    assert topics.response(DeviceKind.NETWORK, 2101) in subscriptions
    assert topics.event("+") in subscriptions
    for node in nodes:
        if node["type"] in ("mqtt in", "mqtt out"):
            assert node["broker"] in brokers
        if node["type"] == "mqtt out":
            assert node["retain"] == "false", "commands must not be retained"
    build = next(node for node in nodes if node.get("name") == "Build arm request")
    assert topics.action(DeviceKind.NETWORK, 2101, Action.SET) in build["func"]


def test_node_red_switch_routes_event_types() -> None:
    switch = next(node for node in flow_nodes() if node["type"] == "switch")
    assert switch["property"] == "payload.event_type"
    values = [rule["v"] for rule in switch["rules"]]
    assert values == list(CAMERA_EVENT_TYPES)


NODE_HARNESS = r"""
const fs = require("fs");
const vm = require("vm");
const nodes = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const store = {};
function run(name, msg) {
    const code = nodes.find(n => n.name === name).func;
    const sandbox = {
        msg: msg, Date: Date,
        flow: { get: key => store[key], set: (key, value) => { store[key] = value; } },
        node: { status: () => {}, warn: () => {}, error: () => {} },
    };
    return vm.runInNewContext("(function () {\n" + code + "\n})()", sandbox);
}
const results = {};
const [request, check] = run("Build arm request", { _msgid: "tx-1", payload: 1 });
results.request = request;
results.check = check;
results.foreign = run("Match response", { payload: { status: "ok", transaction: "other" } });
results.progress = run("Match response", { payload: { status: "accepted", transaction: "tx-1" } });
results.ok = run("Match response", { payload: { status: "ok", transaction: "tx-1" } });
results.timeoutAfterOk = run("Still pending?", { transaction: "tx-1" });
run("Build arm request", { _msgid: "tx-2", payload: 1 });
results.error = run("Match response", { payload: { status: "error", reason: "busy", transaction: "tx-2" } });
run("Build arm request", { _msgid: "tx-3", payload: 1 });
results.timeout = run("Still pending?", { transaction: "tx-3" });
results.lateAnswer = run("Match response", { payload: { status: "ok", transaction: "tx-3" } });
results.motion = run("Describe motion", { payload: { event_type: "motion", camera_id: 4101,
    camera_name: "Front Yard", time: "2026-12-04T20:57:41+00:00" } });
console.log(JSON.stringify(results));
"""


def test_node_red_functions_route_responses(tmp_path: Path) -> None:
    node_binary = shutil.which("node") or shutil.which("nodejs")
    if node_binary is None:
        pytest.skip("Node.js is not installed; the function nodes are checked by reading only")
    harness = tmp_path / "harness.js"
    harness.write_text(NODE_HARNESS, encoding="utf-8")
    result = subprocess.run([node_binary, str(harness), str(NODE_RED_FLOW)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    results = json.loads(result.stdout)

    assert results["request"]["topic"] == "blink2mqtt/network/2101/set"
    assert results["request"]["payload"] == {"armed": True, "transaction": "tx-1"}
    assert results["check"] == {"transaction": "tx-1"}
    assert results["foreign"] is None
    assert results["progress"][:2] == [None, None]
    assert results["progress"][2]["transaction"] == "tx-1"
    assert results["ok"][0]["transaction"] == "tx-1"
    assert results["ok"][1:] == [None, None]
    assert results["timeoutAfterOk"] is None
    assert results["error"][0] is None
    assert results["error"][1]["payload"]["reason"] == "busy"
    assert results["timeout"]["payload"]["status"] == "timeout"
    assert results["lateAnswer"] is None
    assert "Front Yard" in results["motion"]["payload"]


# Home Assistant dashboard and blueprint ----------------------------------------


def test_dashboard_entity_ids_exist() -> None:
    known = demo_default_entity_ids()
    used = collect_entity_ids(load_yaml("homeassistant/dashboard.yaml"))
    assert used, "the dashboard refers to no entity"
    unknown = sorted(set(used) - known)
    assert not unknown, f"entity ids that discovery does not produce: {unknown}"


def test_dashboard_shows_every_panel_and_camera() -> None:
    known = demo_default_entity_ids()
    used = set(collect_entity_ids(load_yaml("homeassistant/dashboard.yaml")))
    for domain in ("alarm_control_panel", "camera"):
        expected = {entity for entity in known if entity.startswith(f"{domain}.")}
        assert expected, f"discovery produced no {domain} entity"
        assert expected <= used, f"missing {sorted(expected - used)}"
    pin = next(entity for entity in known if entity.startswith("text."))
    assert pin in used


def test_dashboard_buttons_press_their_entity() -> None:
    def buttons(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if node.get("type") == "button":
                yield node
            for value in node.values():
                yield from buttons(value)
        elif isinstance(node, list):
            for item in node:
                yield from buttons(item)

    found = list(buttons(load_yaml("homeassistant/dashboard.yaml")))
    assert found
    for card in found:
        action = card["tap_action"]
        assert action["perform_action"] == "button.press"
        assert action["target"]["entity_id"] == card["entity"]


def load_blueprint() -> dict[str, Any]:
    text = (ROOT / "homeassistant/blueprints/blink_motion_snapshot.yaml").read_text("utf-8")
    return yaml.load(text, Loader=BlueprintLoader)


def test_blueprint_inputs_defined() -> None:
    blueprint = load_blueprint()
    inputs = set(blueprint["blueprint"]["input"])

    def references(node: Any) -> Iterator[str]:
        if isinstance(node, InputRef):
            yield str(node)
        elif isinstance(node, dict):
            for value in node.values():
                yield from references(value)
        elif isinstance(node, list):
            for item in node:
                yield from references(item)

    used = set(references({key: value for key, value in blueprint.items() if key != "blueprint"}))
    assert used == inputs


def test_blueprint_presses_snapshot_and_notifies() -> None:
    blueprint = load_blueprint()
    actions = blueprint["actions"]
    press = next(step for step in actions if step.get("action") == "button.press")
    assert press["target"]["entity_id"] == "snapshot_button"
    assert any("wait_template" in step for step in actions)
    notify = actions[-1]
    assert notify["action"] == "{{ notify_action }}"
    assert "camera_proxy" in notify["data"]["data"]["image"]
    trigger = blueprint["triggers"][0]
    assert trigger["trigger"] == "state"
    assert trigger["entity_id"] == "motion_entity"


def test_blueprint_filters_match_discovery() -> None:
    known = demo_default_entity_ids()
    inputs = load_blueprint()["blueprint"]["input"]
    domains = {entry["domain"]
               for name in ("motion_entity", "snapshot_button", "camera_entity")
               for entry in inputs[name]["selector"]["entity"]["filter"]}
    for domain in domains:
        assert any(entity.startswith(f"{domain}.") for entity in known), domain


# Config example and docs -------------------------------------------------------


def example_text() -> str:
    return (ROOT / "config.yaml.example").read_text(encoding="utf-8")


def test_example_passes_validation() -> None:
    validate_config(yaml.safe_load(example_text()), environ={})


def test_example_lists_defaults() -> None:
    data = yaml.safe_load(example_text())
    for dotted, (default, _validator) in SCHEMA_KEYS.items():
        if default is vol.UNDEFINED:
            continue
        value = value_at(data, tuple(dotted.split(".")))
        assert value is not vol.UNDEFINED, f"{dotted} is missing from config.yaml.example"
        assert value == default, f"{dotted} is {value!r} in the example, default {default!r}"


def test_example_mentions_every_key() -> None:
    """Keys without a default may be commented out, but must appear in their section."""
    lines = example_text().splitlines()
    for dotted in SCHEMA_KEYS:
        position = 0
        for depth, part in enumerate(dotted.split(".")):
            pattern = re.compile(rf"^\s{{{depth * 2}}}(#\s*)?{re.escape(part)}:")
            position = next((index for index in range(position, len(lines))
                             if pattern.match(lines[index])), -1)
            assert position >= 0, f"{dotted} does not appear in config.yaml.example"


def test_example_local_cloud_block_valid() -> None:
    lines = example_text().splitlines()
    start = lines.index("# blink:", lines.index(next(line for line in lines
                                                   if line.startswith("# Local Blink cloud"))))
    settings = [line[2:] for line in lines[start:] if line.startswith("# ")]
    config = validate_config(yaml.safe_load("\n".join(settings)), environ={})
    assert config.uses_local_cloud
    assert config.bridge["poll_interval"] < MIN_POLL_INTERVAL_SECONDS


def documented_keys() -> list[str]:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    return re.findall(r"^\| `([a-z_]+(?:\.[a-z_]+)+)` \|", text, flags=re.MULTILINE)


def test_configuration_doc_lists_exactly_schema_keys() -> None:
    documented = documented_keys()
    assert len(documented) == len(set(documented)), "a key is documented twice"
    missing = sorted(set(SCHEMA_KEYS) - set(documented))
    unknown = sorted(set(documented) - set(SCHEMA_KEYS))
    assert not missing, f"keys missing from docs/configuration.md: {missing}"
    assert not unknown, f"docs/configuration.md documents unknown keys: {unknown}"


def test_configuration_doc_up_to_date() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_config_docs.py"),
                             "--check"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr + result.stdout


def test_topics_doc_covers_contract() -> None:
    text = (ROOT / "docs" / "topics.md").read_text(encoding="utf-8")
    for action in Action:
        assert f"/{action.value}`" in text, f"command topic {action.value} is not documented"
    for reason in Reason:
        assert f"`{reason.value}`" in text, f"reason {reason.value} is not documented"
    for state in AuthState:
        assert f"`{state.value}`" in text, f"auth state {state.value} is not documented"
    for request in (*BRIDGE_REQUESTS, "login"):
        assert f"`{request}`" in text, f"bridge request {request} is not documented"
    for event_type in CAMERA_EVENT_TYPES:
        assert f"`{event_type}`" in text
    for topic in ("/bridge/state", "/bridge/info", "/bridge/auth", "/bridge/devices",
                  "/availability", "/response", "/event", "/image"):
        assert topic in text


def test_topics_doc_entity_ids_exist() -> None:
    text = (ROOT / "docs" / "topics.md").read_text(encoding="utf-8")
    domains = "|".join(("alarm_control_panel", "binary_sensor", "button", "camera", "event",
                        "sensor", "switch", "text"))
    mentioned = set(re.findall(rf"`((?:{domains})\.[a-z0-9_]+)`", text))
    assert mentioned, "docs/topics.md names no entity id"
    unknown = sorted(mentioned - demo_default_entity_ids())
    assert not unknown, f"entity ids that discovery does not produce: {unknown}"


def test_troubleshooting_doc_sections() -> None:
    text = (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    for heading in ("## Two-factor login", "## Rate limits and account locks",
                    "## Home Assistant shows entities as unavailable", "## TLS", "## Logs"):
        assert heading in text
    for item in ("bridge/state", "availability", "discovery_prefix", "homeassistant/status",
                 "persistence"):
        assert item in text


# Health check against a real broker ---------------------------------------------


def write_healthcheck_config(tmp_path: Path, port: int, base: str = "blink2mqtt") -> Path:
    path = tmp_path / "healthcheck.yaml"
    path.write_text(yaml.safe_dump({"mqtt": {"host": "127.0.0.1", "port": port,
                                             "base_topic": base}}), encoding="utf-8")
    return path


def run_healthcheck(config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "blink2mqtt.healthcheck", "-c", str(config),
                           "--timeout", "5", *extra],
                          capture_output=True, text=True, env=clean_environment(), timeout=30)


def publish_retained(broker: PrivateBroker, topic: str, payload: str) -> None:
    mqtt_publish.single(topic, payload, qos=1, retain=True, hostname=broker.host,
                        port=broker.port)


def test_healthcheck_online(broker: PrivateBroker, tmp_path: Path) -> None:
    publish_retained(broker, "blink2mqtt/bridge/state", "online")
    result = run_healthcheck(write_healthcheck_config(tmp_path, broker.port))
    assert result.returncode == 0, result.stderr
    assert "healthy" in result.stdout


def test_healthcheck_offline(broker: PrivateBroker, tmp_path: Path) -> None:
    publish_retained(broker, "blink2mqtt/bridge/state", "offline")
    result = run_healthcheck(write_healthcheck_config(tmp_path, broker.port))
    assert result.returncode == 1
    assert "'offline'" in result.stderr


def test_healthcheck_missing_state(broker: PrivateBroker, tmp_path: Path) -> None:
    result = run_healthcheck(write_healthcheck_config(tmp_path, broker.port))
    assert result.returncode == 1
    assert "no retained message" in result.stderr


def test_healthcheck_other_base_topic(broker: PrivateBroker, tmp_path: Path) -> None:
    publish_retained(broker, "blink2mqtt/bridge/state", "online")
    result = run_healthcheck(write_healthcheck_config(tmp_path, broker.port, base="cabin"))
    assert result.returncode == 1
    assert "cabin/bridge/state" in result.stderr


def test_healthcheck_broker_unreachable(tmp_path: Path) -> None:
    started = time.monotonic()
    result = run_healthcheck(write_healthcheck_config(tmp_path, free_port()))
    assert result.returncode == 1
    assert "cannot connect" in result.stderr
    assert time.monotonic() - started < 20


def test_healthcheck_invalid_config(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("mqtt:\n  port: 0\n", encoding="utf-8")
    result = run_healthcheck(config)
    assert result.returncode == 1
    assert "mqtt.port" in result.stderr


@pytest.fixture
def password_broker(tmp_path: Path) -> Iterator[int]:
    """Run mosquitto on a loopback port, accepting only user "bridge" with password "right"."""
    binary = find_mosquitto()
    password_tool = shutil.which("mosquitto_passwd")
    if binary is None or password_tool is None:
        pytest.fail("mosquitto is not installed; .ci/run installs it (apt-get install mosquitto)")
    passwords = tmp_path / "passwd"
    subprocess.run([password_tool, "-c", "-b", str(passwords), "bridge", "right"], check=True,
                   capture_output=True, timeout=30)
    port = free_port()
    config = tmp_path / "auth.conf"
    # Started as root, mosquitto switches to its "user", which could not read the
    # password file in this test's private folder; the current user keeps access.
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous false\n"
                      f"password_file {passwords}\npersistence false\n"
                      f"user {getpass.getuser()}\n", encoding="utf-8")
    process = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not port_is_open("127.0.0.1", port, 0.2):
            assert process.poll() is None, "mosquitto with a password file did not start"
            assert time.monotonic() < deadline, "mosquitto with a password file did not listen"
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def write_login_config(tmp_path: Path, port: int, password: str) -> Path:
    path = tmp_path / "login.yaml"
    path.write_text(yaml.safe_dump({"mqtt": {"host": "127.0.0.1", "port": port,
                                             "username": "bridge", "password": password}}),
                    encoding="utf-8")
    return path


def test_healthcheck_uses_credentials(password_broker: int, tmp_path: Path) -> None:
    mqtt_publish.single("blink2mqtt/bridge/state", "online", qos=1, retain=True,
                        hostname="127.0.0.1", port=password_broker,
                        auth={"username": "bridge", "password": "right"})
    result = run_healthcheck(write_login_config(tmp_path, password_broker, "right"))
    assert result.returncode == 0, result.stderr


def test_healthcheck_rejected_login(password_broker: int, tmp_path: Path) -> None:
    started = time.monotonic()
    result = run_healthcheck(write_login_config(tmp_path, password_broker, "wrong"))
    assert result.returncode == 1
    assert "rejected the connection" in result.stderr
    assert "wrong" not in result.stderr
    assert time.monotonic() - started < 5, "a rejected login must not wait for the timeout"


def test_healthcheck_follows_running_bridge(start_bridge: Callable[..., BridgeThread],
                                            broker: PrivateBroker, tmp_path: Path) -> None:
    runner = start_bridge()
    deadline = time.monotonic() + 10
    while not (runner.bridge and runner.bridge.mqtt.connected) and time.monotonic() < deadline:
        time.sleep(0.05)
    config = write_healthcheck_config(tmp_path, broker.port)

    healthy = run_healthcheck(config)
    assert healthy.returncode == 0, healthy.stderr
    # The check must not take over the bridge's MQTT session.
    assert runner.bridge is not None
    assert runner.bridge.mqtt.connected
    assert runner.bridge.mqtt.statistics.connects == 1

    runner.stop()
    stopped = run_healthcheck(config)
    assert stopped.returncode == 1
    assert "'offline'" in stopped.stderr
