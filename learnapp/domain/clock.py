"""The clock the app reads. Production uses the system clock; tests and the demo pass a fixed one they can move."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol


def ensure_utc(dt: datetime) -> datetime:
    """Return ``dt`` if it is timezone-aware UTC; raise ValueError for a naive or non-UTC datetime."""
    if not isinstance(dt, datetime):
        raise ValueError(f"expected a datetime, got {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"datetime {dt!r} is naive: learnapp needs timezone-aware UTC datetimes")
    if dt.utcoffset() != timedelta(0):
        raise ValueError(f"datetime {dt!r} is not UTC: convert it with .astimezone(timezone.utc)")
    return dt


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock that stands still until it is set or advanced."""

    def __init__(self, at: datetime) -> None:
        self._now = ensure_utc(at)

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> None:
        self._now = ensure_utc(at)

    def advance(self, delta: timedelta) -> datetime:
        self._now = self._now + delta
        return self._now
