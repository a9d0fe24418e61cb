"""OAI-PMH datestamps at a repository's granularity: parsing, formatting, stepping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DAY = "day"
SECONDS = "seconds"
_FORMATS = {DAY: "%Y-%m-%d", SECONDS: "%Y-%m-%dT%H:%M:%SZ"}


def granularity_of(text: str | None) -> str:
    """Identify's granularity ("YYYY-MM-DDThh:mm:ssZ" or "YYYY-MM-DD"; day when unknown)."""
    return SECONDS if text and "hh" in text.lower() else DAY


def granularity_of_stamp(stamp: str) -> str:
    return SECONDS if "T" in stamp else DAY


def parse(stamp: str | None) -> datetime | None:
    """A datestamp or responseDate (either granularity, fractions and offsets tolerated)."""
    if not stamp:
        return None
    text = stamp.strip().replace("z", "Z")
    if len(text) == 10:
        text += "T00:00:00Z"
    text = text.replace("Z", "+00:00")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0)


def fmt(value: datetime, granularity: str) -> str:
    """`value` as a datestamp the repository takes (never finer than its granularity)."""
    return value.astimezone(UTC).strftime(_FORMATS[granularity])


def granule(granularity: str) -> timedelta:
    return timedelta(days=1) if granularity == DAY else timedelta(seconds=1)


def floor(value: datetime, granularity: str) -> datetime:
    """`value` truncated to the granularity."""
    parsed = parse(fmt(value, granularity))
    assert parsed is not None
    return parsed
