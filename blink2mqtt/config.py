"""Configuration file: schema, defaults, environment overrides and validation.

One voluptuous schema per section. Errors name the key path and the expected
value, and loading makes no network call.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import voluptuous as vol
import yaml

from .blink.profile import (
    DEFAULT_OAUTH_URL,
    DEFAULT_REST_PROD_URL,
    DEFAULT_TIER_URL_TEMPLATE,
    ClientProfile,
)

# Blink's guidance is to poll no faster than once a minute; faster polling
# has locked accounts. Only a local Blink cloud on loopback may be polled faster.
MIN_POLL_INTERVAL_SECONDS = 60
DEFAULT_POLL_INTERVAL_SECONDS = 60

# Environment variables that override secrets, so they need not sit in the file.
ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "BLINK2MQTT_BLINK_EMAIL": ("blink", "email"),
    "BLINK2MQTT_BLINK_PASSWORD": ("blink", "password"),
    "BLINK2MQTT_MQTT_USERNAME": ("mqtt", "username"),
    "BLINK2MQTT_MQTT_PASSWORD": ("mqtt", "password"),
}


class ConfigError(Exception):
    """The configuration is invalid; the message names the key and what to write."""


def _port(value: Any) -> int:
    return vol.All(vol.Coerce(int), vol.Range(min=1, max=65535))(value)


def _topic_segment(value: Any) -> str:
    text = vol.All(str, vol.Length(min=1))(value)
    if any(char in text for char in "+#\x00") or text.startswith("/") or text.endswith("/"):
        raise vol.Invalid("must be an MQTT topic without wildcards (+, #) or leading/trailing '/'")
    return text


def _url(value: Any) -> str:
    text = str(value).rstrip("/")
    parts = urlsplit(text.replace("{tier}", "tier"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise vol.Invalid("must be an http:// or https:// URL")
    return text


def _positive_seconds(minimum: float = 0.001) -> vol.All:
    return vol.All(vol.Coerce(float), vol.Range(min=minimum))


_HOSTS_SCHEMA = vol.Schema({
    vol.Optional("oauth_url", default=DEFAULT_OAUTH_URL): _url,
    vol.Optional("rest_prod_url", default=DEFAULT_REST_PROD_URL): _url,
    vol.Optional("tier_url_template", default=DEFAULT_TIER_URL_TEMPLATE): vol.All(
        _url, vol.Match(r".*\{tier\}.*", msg="must contain the {tier} placeholder")),
})

_PROFILE_SCHEMA = vol.Schema({
    vol.Optional(name): vol.All(str, vol.Length(min=1))
    for name in ClientProfile.__dataclass_fields__
})

_BLINK_SCHEMA = vol.Schema({
    vol.Optional("email"): vol.Any(None, vol.All(str, vol.Length(min=3))),
    vol.Optional("password"): vol.Any(None, str),
    vol.Optional("token_file", default="blink2mqtt-tokens.json"): str,
    vol.Optional("hosts", default={}): _HOSTS_SCHEMA,
    vol.Optional("client_profile", default={}): _PROFILE_SCHEMA,
    vol.Optional("verify_tls", default=True): vol.Any(bool, str),
    vol.Optional("timeout", default=20.0): _positive_seconds(),
    vol.Optional("command_timeout", default=60.0): _positive_seconds(),
    vol.Optional("command_poll_interval", default=1.0): _positive_seconds(),
    vol.Optional("busy_retry_delays", default=[5.0, 10.0, 20.0]): [_positive_seconds()],
    vol.Optional("refresh_margin", default=300.0): _positive_seconds(0),
})

_TLS_SCHEMA = vol.Schema({
    vol.Optional("enabled", default=False): bool,
    vol.Optional("ca_file"): vol.Any(None, str),
    vol.Optional("cert_file"): vol.Any(None, str),
    vol.Optional("key_file"): vol.Any(None, str),
    vol.Optional("insecure", default=False): bool,
})

_MQTT_SCHEMA = vol.Schema({
    vol.Optional("host", default="localhost"): vol.All(str, vol.Length(min=1)),
    vol.Optional("port", default=1883): _port,
    vol.Optional("username"): vol.Any(None, str),
    vol.Optional("password"): vol.Any(None, str),
    vol.Optional("client_id"): vol.Any(None, vol.All(str, vol.Length(min=1, max=128))),
    vol.Optional("keepalive", default=60): vol.All(vol.Coerce(int), vol.Range(min=5, max=3600)),
    vol.Optional("protocol", default="3.1.1"): vol.All(
        vol.Coerce(str), vol.In(["3.1.1", "5"], msg="must be '3.1.1' or '5'")),
    vol.Optional("tls", default={}): _TLS_SCHEMA,
    vol.Optional("base_topic", default="blink2mqtt"): _topic_segment,
    # The broker keeps the bridge's subscriptions and queues its QoS 1 commands
    # this long while the bridge is down, so a restart loses no command. 0 turns it off.
    vol.Optional("session_expiry", default=3600): vol.All(vol.Coerce(int), vol.Range(min=0)),
    vol.Optional("reconnect_min_delay", default=1.0): _positive_seconds(),
    vol.Optional("reconnect_max_delay", default=60.0): _positive_seconds(),
})

_HOMEASSISTANT_SCHEMA = vol.Schema({
    vol.Optional("discovery", default=True): bool,
    vol.Optional("discovery_prefix", default="homeassistant"): _topic_segment,
    vol.Optional("birth_delay", default=5.0): _positive_seconds(0),
})

_BRIDGE_SCHEMA = vol.Schema({
    vol.Optional("poll_interval", default=DEFAULT_POLL_INTERVAL_SECONDS): _positive_seconds(),
    vol.Optional("offline_after_failed_polls", default=3): vol.All(vol.Coerce(int), vol.Range(min=1)),
    vol.Optional("remove_after_missing_polls", default=3): vol.All(vol.Coerce(int), vol.Range(min=1)),
    vol.Optional("failure_backoff_max", default=900.0): _positive_seconds(),
    vol.Optional("snooze_minutes", default=240): vol.All(vol.Coerce(int), vol.Range(min=1, max=1440)),
})

_MEDIA_SCHEMA = vol.Schema({
    vol.Optional("motion_hold_time", default=30.0): _positive_seconds(),
    vol.Optional("motion_overlap", default=300.0): _positive_seconds(0),
    # Blink thumbnails are tens of kilobytes; 1 MiB stays far below broker packet limits.
    vol.Optional("max_image_bytes", default=1024 * 1024): vol.All(
        vol.Coerce(int), vol.Range(min=1024, max=64 * 1024 * 1024)),
    vol.Optional("snapshot_min_interval", default=60.0): _positive_seconds(0),
    vol.Optional("snapshot_wait", default=30.0): _positive_seconds(),
    vol.Optional("seen_file", default="blink2mqtt-media.json"): str,
    vol.Optional("download_dir"): vol.Any(None, str),
    vol.Optional("download_spacing", default=2.0): _positive_seconds(0),
    vol.Optional("retention_days", default=30.0): _positive_seconds(),
    vol.Optional("retention_max_mb", default=2048.0): _positive_seconds(),
})

_LOGGING_SCHEMA = vol.Schema({
    vol.Optional("level", default="info"): vol.All(
        vol.Lower, vol.In(["debug", "info", "warning", "error"],
                          msg="must be debug, info, warning or error")),
})

CONFIG_SCHEMA = vol.Schema({
    vol.Optional("blink", default={}): _BLINK_SCHEMA,
    vol.Optional("mqtt", default={}): _MQTT_SCHEMA,
    vol.Optional("homeassistant", default={}): _HOMEASSISTANT_SCHEMA,
    vol.Optional("bridge", default={}): _BRIDGE_SCHEMA,
    vol.Optional("media", default={}): _MEDIA_SCHEMA,
    vol.Optional("logging", default={}): _LOGGING_SCHEMA,
})


@dataclass(frozen=True, slots=True)
class Config:
    """The validated configuration, as nested plain dicts with every default filled in."""

    blink: dict[str, Any]
    mqtt: dict[str, Any]
    homeassistant: dict[str, Any]
    bridge: dict[str, Any]
    media: dict[str, Any]
    logging: dict[str, Any]
    source: Path | None = field(default=None, compare=False)

    @property
    def uses_local_cloud(self) -> bool:
        hosts = self.blink["hosts"]
        return all(_is_loopback_url(hosts[key])
                   for key in ("oauth_url", "rest_prod_url", "tier_url_template"))


def validate_config(data: Any, *, source: Path | None = None,
                    environ: dict[str, str] | None = None) -> Config:
    """Validate a parsed config document; raise ConfigError naming the key on any problem."""
    where = f" in {source}" if source else ""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"the config{where} must be a YAML mapping of sections "
                          f"(blink, mqtt, ...), not {type(data).__name__}")

    data = _apply_environment(data, os.environ if environ is None else environ)
    try:
        validated = CONFIG_SCHEMA(data)
    except vol.MultipleInvalid as err:
        raise ConfigError(_describe_errors(err, data, where)) from None

    config = Config(source=source, **validated)
    _check_cross_field_rules(config, where)
    return config


def load_config(path: Path, *, environ: dict[str, str] | None = None) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist; copy config.yaml.example "
                          "and edit it") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"config file {path} is not UTF-8 text (invalid byte at position "
                          f"{err.start}); save it as UTF-8") from None
    except OSError as err:
        raise ConfigError(f"cannot read config file {path}: {err.strerror}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        position = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"config file {path} is not valid YAML{position}: {problem}") from None
    return validate_config(data, source=path, environ=environ)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key given twice, which YAML would silently overwrite."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}; the later one would silently replace "
                    "the earlier, so keep one", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _apply_environment(data: dict[str, Any], environ: dict[str, str]) -> dict[str, Any]:
    merged = {key: (dict(value) if isinstance(value, dict) else value)
              for key, value in data.items()}
    for variable, (section, key) in ENV_OVERRIDES.items():
        value = environ.get(variable)
        if value is None:
            continue
        target = merged.setdefault(section, {})
        if isinstance(target, dict):
            target[key] = value
    return merged


def _check_cross_field_rules(config: Config, where: str) -> None:
    interval = config.bridge["poll_interval"]
    if interval < MIN_POLL_INTERVAL_SECONDS and not config.uses_local_cloud:
        raise ConfigError(
            f"bridge.poll_interval{where} is {interval:g} s; Blink locks accounts that poll "
            f"faster than every {MIN_POLL_INTERVAL_SECONDS} s, so use {MIN_POLL_INTERVAL_SECONDS} "
            "or more (shorter intervals are allowed only against a local Blink cloud)"
        )
    tls = config.mqtt["tls"]
    if bool(tls.get("cert_file")) != bool(tls.get("key_file")):
        raise ConfigError(f"mqtt.tls{where}: set cert_file and key_file together, or neither")
    for key, value in (("blink.verify_tls", config.blink["verify_tls"]),
                       ("mqtt.tls.ca_file", tls.get("ca_file")),
                       ("mqtt.tls.cert_file", tls.get("cert_file")),
                       ("mqtt.tls.key_file", tls.get("key_file"))):
        if isinstance(value, str) and value and not Path(value).expanduser().is_file():
            raise ConfigError(f"{key}{where}: the file {value!r} does not exist; give the path "
                              "of a PEM file")
    if config.mqtt["reconnect_min_delay"] > config.mqtt["reconnect_max_delay"]:
        raise ConfigError(f"mqtt.reconnect_min_delay{where} must not exceed mqtt.reconnect_max_delay")


def _describe_errors(err: vol.MultipleInvalid, data: Any, where: str) -> str:
    lines = []
    for error in err.errors:
        path = ".".join(str(part) for part in error.path) or "(top level)"
        message = error.msg
        if message == "extra keys not allowed":
            message = "is not a known key; check its spelling against config.yaml.example"
        else:
            found = _value_at(data, error.path)
            shown = "(secret hidden)" if _is_secret_path(error.path) else repr(found)
            message = f"{message} (got {shown})"
        lines.append(f"{path}{where}: {message}")
    return "invalid configuration:\n  " + "\n  ".join(sorted(lines))


def _is_loopback_url(url: str) -> bool:
    host = urlsplit(url.replace("{tier}", "tier")).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _value_at(data: Any, path: list[Any]) -> Any:
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def _is_secret_path(path: list[Any]) -> bool:
    return bool(path) and str(path[-1]) in ("password",)
