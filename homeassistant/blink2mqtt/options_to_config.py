"""Write a blink2mqtt config file from the Home Assistant add-on options.

Usage: python3 options_to_config.py /data/options.json /data/config.yaml [--data-dir /data]

The broker comes from the add-on options mqtt_host, mqtt_port, mqtt_username
and mqtt_password when mqtt_host is set. Otherwise it comes from these
environment variables, which run.sh fills from the Supervisor's MQTT service:
ADDON_MQTT_HOST, ADDON_MQTT_PORT, ADDON_MQTT_USERNAME, ADDON_MQTT_PASSWORD and
ADDON_MQTT_SSL ("true" turns TLS on). They are deliberately not the
BLINK2MQTT_MQTT_* overrides, which would beat the options at run time.

The Blink tokens and the media state go to the data directory (default: the
folder of the output file), which the Supervisor keeps across restarts and
updates. Needs only the standard library and PyYAML.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping

import yaml

DEFAULT_MQTT_HOST = "core-mosquitto"  # host name of the Mosquitto broker add-on
DEFAULT_MQTT_PORT = 1883
CLIP_DIR = "/media/blink2mqtt"  # shown in Home Assistant's media browser
TOKEN_FILE_NAME = "blink2mqtt-tokens.json"
MEDIA_STATE_FILE_NAME = "blink2mqtt-media.json"
CONFIG_FILE_MODE = 0o600  # the file contains the Blink and MQTT passwords

# Add-on option -> (config section, config key), for options copied unchanged.
DIRECT_OPTIONS: dict[str, tuple[str, str]] = {
    "poll_interval": ("bridge", "poll_interval"),
    "snooze_minutes": ("bridge", "snooze_minutes"),
    "base_topic": ("mqtt", "base_topic"),
    "discovery": ("homeassistant", "discovery"),
    "discovery_prefix": ("homeassistant", "discovery_prefix"),
    "log_level": ("logging", "level"),
    "motion_hold_time": ("media", "motion_hold_time"),
    "snapshot_min_interval": ("media", "snapshot_min_interval"),
    "retention_days": ("media", "retention_days"),
    "retention_max_mb": ("media", "retention_max_mb"),
}
# Options that mqtt_section and build_config convert themselves.
OTHER_OPTIONS = frozenset({"email", "password", "download_clips", "mqtt_host", "mqtt_port",
                           "mqtt_username", "mqtt_password"})
KNOWN_OPTIONS = frozenset(DIRECT_OPTIONS) | OTHER_OPTIONS


class OptionsError(Exception):
    """The options file is missing, unreadable or has a value of the wrong type."""


def _text(value: Any) -> str | None:
    """Return a string option with surrounding spaces removed, or None when it is empty."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _is_true(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("true", "1", "yes", "on")


def _port(value: Any, source: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise OptionsError(f"{source} must be a TCP port number, got {value!r}") from None


def mqtt_section(options: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Return the mqtt section: the add-on options when mqtt_host is set, else the service."""
    if _text(options.get("mqtt_host")):
        host = _text(options.get("mqtt_host"))
        port = _port(options.get("mqtt_port") or DEFAULT_MQTT_PORT, "mqtt_port")
        username = _text(options.get("mqtt_username"))
        password = options.get("mqtt_password") or None
        use_tls = False
    else:
        host = _text(environ.get("ADDON_MQTT_HOST")) or DEFAULT_MQTT_HOST
        port = _port(environ.get("ADDON_MQTT_PORT") or DEFAULT_MQTT_PORT, "ADDON_MQTT_PORT")
        username = _text(environ.get("ADDON_MQTT_USERNAME"))
        password = environ.get("ADDON_MQTT_PASSWORD") or None
        use_tls = _is_true(environ.get("ADDON_MQTT_SSL"))

    section: dict[str, Any] = {"host": host, "port": port}
    if username is not None:
        section["username"] = username
    if password is not None:
        section["password"] = str(password)
    if use_tls:
        section["tls"] = {"enabled": True}
    return section


def build_config(options: Mapping[str, Any], environ: Mapping[str, str],
                 data_dir: Path) -> dict[str, Any]:
    """Return the config document for the add-on options, as nested dicts."""
    config: dict[str, Any] = {
        "blink": {"token_file": str(data_dir / TOKEN_FILE_NAME)},
        "mqtt": mqtt_section(options, environ),
        "homeassistant": {},
        "bridge": {},
        "media": {"seen_file": str(data_dir / MEDIA_STATE_FILE_NAME)},
        "logging": {},
    }

    # An empty email or password is left out, so the bridge starts and reports
    # login_required on <base>/bridge/auth instead of failing validation.
    email = _text(options.get("email"))
    if email is not None:
        config["blink"]["email"] = email
    password = options.get("password")
    if password:
        config["blink"]["password"] = str(password)

    for option, (section, key) in DIRECT_OPTIONS.items():
        value = options.get(option)
        if value is not None and value != "":
            config[section][key] = value

    download_clips = options.get("download_clips", False)
    if not isinstance(download_clips, bool):
        raise OptionsError(f"download_clips must be true or false, got {download_clips!r}")
    if download_clips:
        config["media"]["download_dir"] = CLIP_DIR

    return {section: values for section, values in config.items() if values}


def read_options(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OptionsError(f"options file {path} does not exist") from None
    except (OSError, json.JSONDecodeError) as err:
        raise OptionsError(f"cannot read options file {path}: {err}") from None
    if not isinstance(data, dict):
        raise OptionsError(f"options file {path} must contain a JSON object")
    return data


def write_config(config: dict[str, Any], path: Path) -> None:
    """Write the config atomically and readable by the owner only."""
    header = ("# Written by options_to_config.py from the add-on options at every start;\n"
              "# edit the options in Home Assistant, not this file.\n")
    text = header + yaml.safe_dump(config, sort_keys=False, default_flow_style=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, CONFIG_FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write a blink2mqtt config file from Home Assistant add-on options.")
    parser.add_argument("options", type=Path, help="the add-on options, e.g. /data/options.json")
    parser.add_argument("output", type=Path, help="config file to write, e.g. /data/config.yaml")
    parser.add_argument("--data-dir", type=Path,
                        help="folder for the token and media state files "
                             "(default: the folder of the output file)")
    args = parser.parse_args(argv)

    try:
        options = read_options(args.options)
        unknown = sorted(set(options) - KNOWN_OPTIONS)
        if unknown:
            print(f"options_to_config: ignoring unknown option(s): {', '.join(unknown)}",
                  file=sys.stderr)
        data_dir = args.data_dir or args.output.parent
        config = build_config(options, os.environ, data_dir)
        write_config(config, args.output)
    except OptionsError as err:
        print(f"options_to_config: {err}", file=sys.stderr)
        return 1
    print(f"options_to_config: wrote {args.output} (MQTT broker "
          f"{config['mqtt']['host']}:{config['mqtt']['port']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
