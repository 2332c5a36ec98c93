from datetime import datetime, timedelta, timezone

import pytest

from learnapp.domain.clock import FixedClock, SystemClock, ensure_utc

T = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def test_fixed_clock_stands_still_until_moved():
    clock = FixedClock(T)
    assert clock.now() == T
    assert clock.advance(timedelta(days=1, hours=2)) == datetime(2026, 3, 3, 11, 0, tzinfo=timezone.utc)
    clock.set(datetime(2026, 4, 1, tzinfo=timezone.utc))
    assert clock.now() == datetime(2026, 4, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("bad", [datetime(2026, 3, 2, 9), datetime(2026, 3, 2, 9, tzinfo=timezone(timedelta(hours=2)))])
def test_naive_or_non_utc_datetimes_are_refused(bad):
    with pytest.raises(ValueError):
        ensure_utc(bad)
    with pytest.raises(ValueError):
        FixedClock(bad)


def test_system_clock_is_aware_utc():
    assert ensure_utc(SystemClock().now()).tzinfo is not None


def test_advance_accumulates_and_set_refuses_naive():
    clock = FixedClock(T)
    clock.advance(timedelta(hours=1))
    clock.advance(timedelta(minutes=30))
    assert clock.now() == datetime(2026, 3, 2, 10, 30, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        clock.set(datetime(2026, 3, 2, 9))
    assert clock.now() == datetime(2026, 3, 2, 10, 30, tzinfo=timezone.utc)


def test_ensure_utc_passes_utc_through_unchanged():
    assert ensure_utc(T) is T
    with pytest.raises(ValueError):
        ensure_utc("2026-03-02T09:00:00+00:00")


def test_system_clock_is_utc_now():
    before = datetime.now(timezone.utc)
    now = SystemClock().now()
    assert now.utcoffset() == timedelta(0)
    assert before <= now <= datetime.now(timezone.utc)
