"""Generate docs/configuration.md from blink2mqtt.config.CONFIG_SCHEMA.

Usage:
    python tools/gen_config_docs.py           # rewrite docs/configuration.md
    python tools/gen_config_docs.py --check   # exit 1 when the file is out of date

Key paths, defaults and ranges come from the schema, so they follow the code.
Types and descriptions are written here in KEY_DOCS. The script stops with an
error when a schema key has no entry there or an entry names an unknown key.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import voluptuous as vol

from blink2mqtt.blink.profile import ClientProfile
from blink2mqtt.bridge.motion import SEEN_RETENTION
from blink2mqtt.config import CONFIG_SCHEMA, ENV_OVERRIDES, MIN_POLL_INTERVAL_SECONDS

OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"

# Key path -> (type, description). The type is the base type; the generator
# appends the range or the allowed values that the schema enforces.
KEY_DOCS: dict[str, tuple[str, str]] = {
    # blink ------------------------------------------------------------------
    "blink.email": (
        "string or null",
        "Email address of the Blink account. Needed for automatic sign-in and for "
        "`bridge/request/login`; without it, sign in once with `blink2mqtt login`."),
    "blink.password": (
        "string or null",
        "Password of the Blink account. Never logged; error messages hide it."),
    "blink.token_file": (
        "path",
        "File that stores the OAuth tokens (mode 0600). The bridge reuses them at "
        "start-up, so a restart needs no new sign-in and no two-factor PIN."),
    "blink.hosts.oauth_url": (
        "URL", "Base URL of Blink's OAuth host. Change it only to use a local Blink cloud."),
    "blink.hosts.rest_prod_url": (
        "URL", "Base URL of Blink's global REST host, used during sign-in."),
    "blink.hosts.tier_url_template": (
        "URL with `{tier}`",
        "Base URL of the REST host of the account's region; `{tier}` is replaced by the "
        "tier Blink assigns at sign-in (for example `u011`)."),
    "blink.client_profile.client_id": ("string", "OAuth client id sent at sign-in."),
    "blink.client_profile.scope": ("string", "OAuth scope requested at sign-in."),
    "blink.client_profile.redirect_uri": ("string", "OAuth redirect URI sent at sign-in."),
    "blink.client_profile.app_brand": ("string", "App brand header sent to Blink."),
    "blink.client_profile.app_version": ("string", "App version header sent to Blink."),
    "blink.client_profile.device_brand": ("string", "Device brand header sent to Blink."),
    "blink.client_profile.device_model": ("string", "Device model header sent to Blink."),
    "blink.client_profile.device_os_version": (
        "string", "Device operating system version header sent to Blink."),
    "blink.client_profile.web_user_agent": (
        "string", "User-Agent of the requests to Blink's sign-in pages."),
    "blink.client_profile.token_user_agent": (
        "string", "User-Agent of the OAuth token requests."),
    "blink.client_profile.rest_user_agent": (
        "string", "User-Agent of the REST API requests."),
    "blink.verify_tls": (
        "boolean or path",
        "Verify Blink's TLS certificates. A path names a CA bundle; `false` turns "
        "verification off and logs a warning at start-up."),
    "blink.timeout": ("seconds", "Maximum time to wait for one HTTP response from Blink."),
    "blink.command_timeout": (
        "seconds",
        "Maximum time to wait for a Blink command (arm, snapshot, ...) to complete. "
        "A command still running then ends with reason `timeout`."),
    "blink.command_poll_interval": (
        "seconds", "Time between two status checks of a running Blink command."),
    "blink.busy_retry_delays": (
        "list of seconds",
        "Waits before each retry while the sync module answers that it is busy with "
        "another command. After the last one the command ends with reason `busy`."),
    "blink.refresh_margin": (
        "seconds", "Refresh the access token this long before it expires."),
    # mqtt -------------------------------------------------------------------
    "mqtt.host": ("string", "Host name or IP address of the MQTT broker."),
    "mqtt.port": ("integer", "TCP port of the broker; 8883 is usual with TLS."),
    "mqtt.username": ("string or null", "User name for the broker; null connects without one."),
    "mqtt.password": ("string or null", "Password for the broker."),
    "mqtt.client_id": (
        "string or null",
        "MQTT client id. Null uses `blink2mqtt-<base_topic>`, which stays the same "
        "across restarts so that the broker can resume the session. Two bridges on "
        "one broker need different ids."),
    "mqtt.keepalive": ("seconds (integer)", "Interval of MQTT keepalive pings."),
    "mqtt.protocol": (
        "string",
        "MQTT protocol version. `5` adds response topics with correlation data to "
        "commands and bridge requests (see docs/topics.md)."),
    "mqtt.tls.enabled": ("boolean", "Connect to the broker with TLS."),
    "mqtt.tls.ca_file": (
        "path or null", "CA bundle that signed the broker's certificate; null uses the system CAs."),
    "mqtt.tls.cert_file": (
        "path or null", "Client certificate for brokers that require one; set with `key_file`."),
    "mqtt.tls.key_file": ("path or null", "Private key of the client certificate."),
    "mqtt.tls.insecure": (
        "boolean",
        "Skip verification of the broker's certificate and host name. For testing "
        "only: anyone on the network path can read and change the traffic."),
    "mqtt.base_topic": (
        "topic",
        "First level of every blink2mqtt topic. No `+`, `#` or leading or trailing `/`."),
    "mqtt.session_expiry": (
        "seconds (integer)",
        "How long the broker keeps the bridge's session, with its subscriptions and "
        "queued QoS 1 commands, while the bridge is down. `0` turns persistent "
        "sessions off."),
    "mqtt.reconnect_min_delay": (
        "seconds", "Wait before the first reconnect after the broker connection drops."),
    "mqtt.reconnect_max_delay": (
        "seconds",
        "Maximum wait between reconnect attempts; the wait doubles up to this value. "
        "Must not be less than `reconnect_min_delay`."),
    # homeassistant ----------------------------------------------------------
    "homeassistant.discovery": (
        "boolean", "Publish Home Assistant MQTT discovery configs for the bridge and every device."),
    "homeassistant.discovery_prefix": (
        "topic", "Discovery prefix of Home Assistant's MQTT integration."),
    "homeassistant.birth_delay": (
        "seconds",
        "Wait after Home Assistant publishes `online` on `<discovery_prefix>/status` "
        "before discovery and states are published again."),
    # bridge -----------------------------------------------------------------
    "bridge.poll_interval": (
        "seconds",
        f"Time between two reads of the account's homescreen. Values below "
        f"{MIN_POLL_INTERVAL_SECONDS} are rejected unless every Blink host is a loopback "
        "address (a local Blink cloud), because faster polling has locked accounts."),
    "bridge.offline_after_failed_polls": (
        "integer", "Failed polls in a row after which every device's availability becomes `offline`."),
    "bridge.remove_after_missing_polls": (
        "integer",
        "Complete polls in a row that must miss a device before its topics and "
        "discovery configs are removed."),
    "bridge.failure_backoff_max": (
        "seconds",
        "Maximum wait between polls after failures; the wait doubles per failure from "
        "`poll_interval`. A rate limit from Blink waits at least as long as Blink asks."),
    "bridge.snooze_minutes": (
        "minutes (integer)", "Snooze length that the Home Assistant Snooze buttons send."),
    # media ------------------------------------------------------------------
    "media.motion_hold_time": (
        "seconds",
        "How long a camera's `motion` stays true after a new motion clip. Home "
        "Assistant's motion sensor also turns off by itself after this time."),
    "media.motion_overlap": (
        "seconds",
        "How far before the last media read the next read starts, so that clips "
        "which reach Blink late still raise one motion event."),
    "media.max_image_bytes": (
        "bytes (integer)",
        "Largest camera image published on `<base>/camera/<id>/image`; larger images "
        "are logged and skipped."),
    "media.snapshot_min_interval": (
        "seconds",
        "Minimum time between two snapshots of the same camera. Earlier requests end "
        "with reason `rate_limited` and a `retry_after`; requests during a running "
        "snapshot share its result."),
    "media.snapshot_wait": (
        "seconds",
        "How long a snapshot waits for Blink to show the new picture after the "
        "command completed. Without a new picture the snapshot ends with reason `unchanged`."),
    "media.seen_file": (
        "path",
        "File with the media ids already reported and the time of the last media read. "
        "After a restart no clip is reported twice, and clips from the downtime are "
        f"reported when they are at most {SEEN_RETENTION.days} days old."),
    "media.download_dir": (
        "path or null",
        "Folder for downloaded clips and their thumbnails, as "
        "`<camera>_<id>/<UTC time>_<media id>.mp4`. Null downloads nothing."),
    "media.download_spacing": (
        "seconds", "Minimum time between two downloads, because bulk downloads have got accounts suspended."),
    "media.retention_days": (
        "days", "Downloaded files older than this are deleted after each download."),
    "media.retention_max_mb": (
        "megabytes",
        "When the download folder grows beyond this size, the oldest files are deleted "
        "after each download."),
    # logging ----------------------------------------------------------------
    "logging.level": (
        "string",
        "Minimum level of the messages logged to stderr. `--log-level` on the command line overrides it."),
}

SECTION_DOCS: dict[str, str] = {
    "blink": "The Blink account, the Blink hosts and how commands are followed.",
    "blink.hosts": "Blink's hosts. The defaults are Blink's cloud; a local Blink cloud "
                   "(`blink2mqtt simulator`) uses `http://127.0.0.1:<port>/hosts/...`.",
    "blink.client_profile": "The app identity presented to Blink. Leave it empty unless "
                            "Blink rejects the built-in identity (auth state "
                            "`client_outdated`); then override single fields.",
    "mqtt": "The broker connection and the topic tree.",
    "mqtt.tls": "TLS to the broker.",
    "homeassistant": "Home Assistant MQTT discovery.",
    "bridge": "Polling, availability and device removal.",
    "media": "Motion events, camera images, snapshots and the optional clip archive.",
    "logging": "Log output.",
}

# Defaults that live outside the schema: key path prefix -> default lookup.
EXTERNAL_DEFAULTS: dict[tuple[str, ...], Callable[[str], Any]] = {
    ("blink", "client_profile"): lambda name: getattr(ClientProfile(), name),
}

NOT_SET = object()


@dataclass(frozen=True)
class KeyInfo:
    path: tuple[str, ...]
    default: Any
    validator: Any

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


def walk_schema(schema: vol.Schema, prefix: tuple[str, ...] = ()) -> Iterator[KeyInfo | tuple[str, ...]]:
    """Yield each section path (a tuple) before its keys, and a KeyInfo per leaf key."""
    for marker, validator in schema.schema.items():
        path = prefix + (str(marker.schema),)
        if isinstance(validator, vol.Schema):
            yield path
            yield from walk_schema(validator, path)
            continue
        default = marker.default() if marker.default is not vol.UNDEFINED else NOT_SET
        if default is NOT_SET and path[:-1] in EXTERNAL_DEFAULTS:
            default = EXTERNAL_DEFAULTS[path[:-1]](path[-1])
        yield KeyInfo(path, default, validator)


def schema_key_paths() -> list[str]:
    """Return the dotted path of every leaf key of CONFIG_SCHEMA, in schema order."""
    return [item.dotted for item in walk_schema(CONFIG_SCHEMA) if isinstance(item, KeyInfo)]


def describe_constraints(validator: Any) -> list[str]:
    """Return the limits a validator enforces, in words, for the validators it can read."""
    if isinstance(validator, vol.All):
        return [text for item in validator.validators for text in describe_constraints(item)]
    if isinstance(validator, vol.Any):
        return [text for item in validator.validators for text in describe_constraints(item)]
    if isinstance(validator, list) and len(validator) == 1:
        return [f"each {text}" for text in describe_constraints(validator[0])]
    if isinstance(validator, vol.Range):
        low, high = validator.min, validator.max
        if low is not None and high is not None:
            return [f"{_number(low)} to {_number(high)}"]
        if low is not None:
            return [f"≥ {_number(low)}"]
        if high is not None:
            return [f"≤ {_number(high)}"]
    if isinstance(validator, vol.In):
        return ["one of " + ", ".join(f"`{value}`" for value in validator.container)]
    if isinstance(validator, vol.Length) and validator.max is not None:
        return [f"{validator.min or 0} to {validator.max} characters"]
    if getattr(validator, "__name__", "") == "_port":
        return ["1 to 65535"]
    return []


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def format_default(default: Any) -> str:
    if default is NOT_SET:
        return "not set"
    if default is None:
        return "`null`"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, (int, float)):
        return f"`{default:g}`" if isinstance(default, float) else f"`{default}`"
    if isinstance(default, (list, dict)):
        return f"`{json.dumps(default)}`"
    if isinstance(default, str) and default == "":
        return '`""`'
    return f"`{default}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def check_key_docs(paths: list[str]) -> None:
    """Raise SystemExit naming the keys that lack documentation or no longer exist."""
    missing = [path for path in paths if path not in KEY_DOCS]
    unknown = sorted(set(KEY_DOCS) - set(paths))
    problems = []
    if missing:
        problems.append("schema keys without an entry in KEY_DOCS: " + ", ".join(missing))
    if unknown:
        problems.append("KEY_DOCS entries for keys the schema does not have: " + ", ".join(unknown))
    if problems:
        raise SystemExit(f"{Path(__file__).name}: " + "; ".join(problems)
                         + f". Edit KEY_DOCS in {Path(__file__).name}.")


def render_section(schema: vol.Schema, path: tuple[str, ...]) -> list[str]:
    """Return the heading, the key table and then the subsections of one config section."""
    dotted = ".".join(path)
    heading = "#" * min(len(path) + 1, 4)
    lines = ["", f"{heading} {dotted}", ""]
    if dotted in SECTION_DOCS:
        lines += [SECTION_DOCS[dotted], ""]

    leaves = [item for item in walk_schema(schema, path)
              if isinstance(item, KeyInfo) and len(item.path) == len(path) + 1]
    if leaves:
        lines += ["| Key | Type | Default | Description |", "|---|---|---|---|"]
    for item in leaves:
        base_type, description = KEY_DOCS[item.dotted]
        constraints = describe_constraints(item.validator)
        type_text = base_type + (f", {', '.join(constraints)}" if constraints else "")
        lines.append(f"| `{item.dotted}` | {_cell(type_text)} "
                     f"| {_cell(format_default(item.default))} | {_cell(description)} |")

    for marker, validator in schema.schema.items():
        if isinstance(validator, vol.Schema):
            lines += render_section(validator, path + (str(marker.schema),))
    return lines


def render() -> str:
    check_key_docs(schema_key_paths())

    lines = [
        "# Configuration",
        "",
        "<!-- Generated by tools/gen_config_docs.py from blink2mqtt/config.py; "
        "edit the script, not this file. -->",
        "",
        "blink2mqtt reads one YAML file, given with `-c`. Every key is optional and "
        "unknown keys are errors. `blink2mqtt check-config -c config.yaml` validates a "
        "file without connecting anywhere; [config.yaml.example](../config.yaml.example) "
        "lists every key with its default.",
        "",
        "Relative paths resolve against the working directory of the process.",
        "",
        "## Environment variables",
        "",
        "These variables override keys of the file, so that secrets need not be written there:",
        "",
        "| Variable | Key |",
        "|---|---|",
    ]
    for variable, (section, key) in ENV_OVERRIDES.items():
        lines.append(f"| `{variable}` | `{section}.{key}` |")
    lines += [
        "",
        "## Rules across keys",
        "",
        f"- `bridge.poll_interval` must be at least {MIN_POLL_INTERVAL_SECONDS} seconds, "
        "unless `blink.hosts` all point at loopback addresses (a local Blink cloud).",
        "- `mqtt.tls.cert_file` and `mqtt.tls.key_file` are set together or not at all.",
        "- `mqtt.reconnect_min_delay` must not exceed `mqtt.reconnect_max_delay`.",
    ]

    for marker, validator in CONFIG_SCHEMA.schema.items():
        lines += render_section(validator, (str(marker.schema),))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate docs/configuration.md from the schema.")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when docs/configuration.md differs from the generated text")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="file to write or check")
    args = parser.parse_args(argv)

    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date; run python tools/gen_config_docs.py",
                  file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
