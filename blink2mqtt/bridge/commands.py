"""Parse and validate command messages from MQTT into typed requests.

Every rejection carries a reason code from REASONS and a message that says
what the bridge accepts, so the sender learns how to fix the request.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .mqtt import ReplyTarget
from .topics import Action, DeviceKind, DeviceTopic

MAX_COMMAND_PAYLOAD_BYTES = 16 * 1024
MIN_SNOOZE_MINUTES = 1
MAX_SNOOZE_MINUTES = 1440

_TRUE_WORDS = frozenset({"on", "true", "1", "enable", "enabled", "yes"})
_FALSE_WORDS = frozenset({"off", "false", "0", "disable", "disabled", "no"})
_ARM_WORDS = frozenset({"arm_away", "arm", "armed", "armed_away", "on", "true"})
_DISARM_WORDS = frozenset({"disarm", "disarmed", "off", "false"})


class CommandName(StrEnum):
    ARM = "arm"
    DISARM = "disarm"
    ENABLE_MOTION = "enable_motion_detection"
    DISABLE_MOTION = "disable_motion_detection"
    SNAPSHOT = "snapshot"
    RECORD = "record"
    SNOOZE = "snooze"
    GET = "get"


SUPPORTED_COMMANDS: dict[DeviceKind, tuple[CommandName, ...]] = {
    DeviceKind.NETWORK: (CommandName.ARM, CommandName.DISARM, CommandName.SNOOZE,
                         CommandName.GET),
    DeviceKind.CAMERA: (CommandName.ENABLE_MOTION, CommandName.DISABLE_MOTION,
                        CommandName.SNAPSHOT, CommandName.RECORD, CommandName.SNOOZE,
                        CommandName.GET),
}


class Reason(StrEnum):
    """Reason codes of an ``error`` response."""

    INVALID_PAYLOAD = "invalid_payload"
    UNKNOWN_DEVICE = "unknown_device"
    UNSUPPORTED = "unsupported"
    RETAINED = "retained"
    TIMEOUT = "timeout"
    BUSY = "busy"
    RATE_LIMITED = "rate_limited"
    LOGIN_REQUIRED = "login_required"
    BLOCKED = "blocked"
    CLIENT_OUTDATED = "client_outdated"
    UNAVAILABLE = "unavailable"
    NOT_FOUND = "not_found"
    BLINK_ERROR = "blink_error"
    UNCHANGED = "unchanged"
    OFFLINE = "offline"
    INTERNAL = "internal_error"


@dataclass(frozen=True, slots=True)
class CommandRequest:
    kind: DeviceKind
    device_id: int
    name: CommandName
    minutes: int | None = None
    transaction: str | int | float | None = None
    reply_to: ReplyTarget | None = None


class InvalidCommand(Exception):
    """A command message that cannot run, so the bridge publishes an error response."""

    def __init__(self, reason: Reason, message: str, *,
                 transaction: str | int | float | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.transaction = transaction


# Blink ids are positive ASCII numbers without leading zeros; anything else
# (other scripts' digits, "04101", signs) is not an id, so it can never alias one.
_DEVICE_ID = re.compile(r"[1-9][0-9]{0,17}")
_MINUTES = re.compile(r"[0-9]{1,5}")


def parse_device_id(raw: str) -> int | None:
    return int(raw) if _DEVICE_ID.fullmatch(raw) else None


def parse_command(topic: DeviceTopic, payload: bytes, *,
                  reply_to: ReplyTarget | None = None) -> CommandRequest:
    """Turn one command message into a CommandRequest; raise InvalidCommand when it is bad."""
    device_id = parse_device_id(topic.device_id)
    if device_id is None:
        raise InvalidCommand(Reason.UNKNOWN_DEVICE,
                             f"'{topic.device_id}' is not a Blink id; ids are whole numbers, "
                             "see <base>/bridge/devices")

    value, transaction = _decode(payload)
    try:
        name, minutes = _interpret(topic, value)
    except InvalidCommand as err:
        err.transaction = transaction
        raise
    if name not in SUPPORTED_COMMANDS[topic.kind]:
        raise InvalidCommand(Reason.UNSUPPORTED, f"a {topic.kind.value} does not support {name}",
                             transaction=transaction)
    return CommandRequest(kind=topic.kind, device_id=device_id, name=name, minutes=minutes,
                          transaction=transaction, reply_to=reply_to)


def extract_transaction(payload: bytes) -> str | int | float | None:
    """Best-effort transaction of a payload that failed to parse, to echo in the error."""
    try:
        return _decode(payload)[1]
    except InvalidCommand:
        return None


def _decode(payload: bytes) -> tuple[Any, str | int | float | None]:
    """Return (value, transaction): a JSON object's fields or a bare word."""
    if len(payload) > MAX_COMMAND_PAYLOAD_BYTES:
        raise InvalidCommand(Reason.INVALID_PAYLOAD,
                             f"payload of {len(payload)} bytes is too large; "
                             f"commands are at most {MAX_COMMAND_PAYLOAD_BYTES} bytes")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise InvalidCommand(Reason.INVALID_PAYLOAD, "payload is not valid UTF-8 text") from None

    if not text.startswith(("{", "[", '"')):
        _check_text(text)
        return text, None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise InvalidCommand(Reason.INVALID_PAYLOAD,
                             f"payload looks like JSON but is invalid: {err.msg} "
                             f"at position {err.pos}") from None
    except (ValueError, RecursionError):
        # Huge integers and very deep nesting are valid JSON that no command needs.
        raise InvalidCommand(Reason.INVALID_PAYLOAD,
                             "payload JSON is nested too deeply or has a number too large; "
                             "send a flat JSON object or a bare value") from None
    _check_text(json.dumps(value, ensure_ascii=False))
    if isinstance(value, str):
        return value, None
    if not isinstance(value, dict):
        raise InvalidCommand(Reason.INVALID_PAYLOAD,
                             f"payload is a JSON {type(value).__name__}; "
                             "send a JSON object or a bare value")
    transaction = value.get("transaction")
    if transaction is not None and (isinstance(transaction, bool)
                                    or not isinstance(transaction, (str, int, float))):
        raise InvalidCommand(Reason.INVALID_PAYLOAD,
                             "'transaction' must be a string or a number")
    if isinstance(transaction, str) and len(transaction) > 256:
        raise InvalidCommand(Reason.INVALID_PAYLOAD, "'transaction' is longer than 256 characters")
    if isinstance(transaction, float) and not math.isfinite(transaction):
        raise InvalidCommand(Reason.INVALID_PAYLOAD, "'transaction' must be a finite number")
    fields = {key: item for key, item in value.items() if key != "transaction"}
    return fields, transaction


def _reject_constant(name: str) -> Any:
    raise InvalidCommand(Reason.INVALID_PAYLOAD, f"payload contains {name}, which is not valid JSON")


def _check_text(text: str) -> None:
    """Reject lone surrogates: they cannot be sent back in a UTF-8 response."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidCommand(Reason.INVALID_PAYLOAD,
                             "payload contains characters that are not valid Unicode") from None


def _interpret(topic: DeviceTopic, value: Any) -> tuple[CommandName, int | None]:
    if topic.action is Action.SET:
        return _interpret_set(topic.kind, value), None
    if topic.action is Action.SNOOZE:
        return CommandName.SNOOZE, _interpret_minutes(value)
    simple = {Action.GET: CommandName.GET, Action.SNAPSHOT: CommandName.SNAPSHOT,
              Action.RECORD: CommandName.RECORD}
    if isinstance(value, dict) and value:
        raise InvalidCommand(Reason.INVALID_PAYLOAD,
                             f"'{topic.action.value}' takes no fields besides 'transaction'; "
                             f"got {', '.join(sorted(value))}")
    return simple[topic.action], None


def _interpret_set(kind: DeviceKind, value: Any) -> CommandName:
    if kind is DeviceKind.NETWORK:
        accepted = 'ARM_AWAY, DISARM, {"armed": true} or {"armed": false}'
        word = _single_field(value, "armed", accepted) if isinstance(value, dict) else value
        if isinstance(word, bool):
            return CommandName.ARM if word else CommandName.DISARM
        if isinstance(word, str) and word.lower() in _ARM_WORDS:
            return CommandName.ARM
        if isinstance(word, str) and word.lower() in _DISARM_WORDS:
            return CommandName.DISARM
        raise InvalidCommand(Reason.INVALID_PAYLOAD, f"{_show(word)} is not valid; send {accepted}")

    accepted = 'ON, OFF, {"motion_detection": true} or {"motion_detection": false}'
    word = _single_field(value, "motion_detection", accepted) if isinstance(value, dict) else value
    if isinstance(word, bool):
        return CommandName.ENABLE_MOTION if word else CommandName.DISABLE_MOTION
    if isinstance(word, str) and word.lower() in _TRUE_WORDS:
        return CommandName.ENABLE_MOTION
    if isinstance(word, str) and word.lower() in _FALSE_WORDS:
        return CommandName.DISABLE_MOTION
    raise InvalidCommand(Reason.INVALID_PAYLOAD, f"{_show(word)} is not valid; send {accepted}")


def _single_field(fields: dict[str, Any], key: str, accepted: str) -> Any:
    unknown = sorted(set(fields) - {key})
    if unknown or key not in fields:
        detail = f"unknown field(s) {', '.join(unknown)}" if unknown else f"'{key}' is missing"
        raise InvalidCommand(Reason.INVALID_PAYLOAD, f"{detail}; send {accepted}")
    return fields[key]


def _interpret_minutes(value: Any) -> int:
    accepted = (f"a whole number of minutes from {MIN_SNOOZE_MINUTES} to {MAX_SNOOZE_MINUTES}, "
                'bare or as {"minutes": 240}')
    raw = _single_field(value, "minutes", accepted) if isinstance(value, dict) else value
    minutes: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        minutes = raw
    elif isinstance(raw, str) and _MINUTES.fullmatch(raw.strip()):
        minutes = int(raw.strip())
    if minutes is None or not MIN_SNOOZE_MINUTES <= minutes <= MAX_SNOOZE_MINUTES:
        raise InvalidCommand(Reason.INVALID_PAYLOAD, f"{_show(raw)} is not valid; send {accepted}")
    return minutes


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
