"""Clock and the timestamp formats Blink mixes: ISO with +00:00, Z and +0000 offsets."""

from __future__ import annotations

import datetime as dt
import re

_SINCE_PATTERN = re.compile(
    r"^(?P<base>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)"
    r"\s*(?:(?P<zulu>Z)|(?P<sign>[+\- ]?)(?P<hours>\d{2}):?(?P<minutes>\d{2}))?$"
)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def format_iso(moment: dt.datetime) -> str:
    """Format as Blink's created_at fields do: ``2020-08-06T01:30:59+00:00``."""
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


def format_zulu(moment: dt.datetime) -> str:
    """Format with a ``Z`` suffix, as Blink's snooze_till fields do."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_since(text: str) -> dt.datetime:
    """Parse a media/changed ``since`` value into an aware datetime.

    Accepts ``+0000``, ``+00:00``, ``Z`` (with or without fractional seconds), an
    offset whose ``+`` arrived as a space because the client did not URL-encode it,
    no offset at all (taken as UTC), and bare epoch seconds.
    Raises ValueError naming the text when it matches none of these.
    """
    stripped = text.strip()
    if stripped.isdigit():
        return dt.datetime.fromtimestamp(int(stripped), dt.timezone.utc)
    match = _SINCE_PATTERN.match(stripped)
    if match is None:
        raise ValueError(f"invalid since timestamp {text!r}: expected ISO 8601 such as 2024-01-01T12:00:00+0000")
    base = dt.datetime.fromisoformat(match["base"].replace(" ", "T"))
    if match["hours"] is None:
        return base.replace(tzinfo=dt.timezone.utc)
    offset = dt.timedelta(hours=int(match["hours"]), minutes=int(match["minutes"]))
    if match["sign"] == "-":
        offset = -offset
    return base.replace(tzinfo=dt.timezone(offset))


def parse_moment(value: dt.datetime | str) -> dt.datetime:
    """Return an aware datetime from a datetime or an ISO 8601 string.

    Raises ValueError for a naive datetime, because its time zone would be a guess.
    """
    if isinstance(value, dt.datetime):
        moment = value
    else:
        moment = parse_since(value)
    if moment.tzinfo is None:
        raise ValueError(f"datetime {moment.isoformat()} has no time zone: pass an aware datetime")
    return moment
