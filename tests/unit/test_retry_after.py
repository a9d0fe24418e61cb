import random
from datetime import UTC, datetime

from harvester.middlewares.retry_after import backoff_seconds, retry_after_seconds


def test_retry_after_seconds_and_dates():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(b"7") == 7.0
    assert retry_after_seconds("Thu, 01 Jan 2026 12:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds(b"soon") is None


def test_backoff_grows_with_jitter_and_cap():
    rng = random.Random(1)
    first = [backoff_seconds(0, 1.0, 60.0, rng) for _ in range(50)]
    third = [backoff_seconds(3, 1.0, 60.0, rng) for _ in range(50)]
    assert all(0.5 <= d <= 1.5 for d in first)
    assert all(4.0 <= d <= 12.0 for d in third)
    assert len(set(first)) > 10  # jittered
    assert all(d <= 90.0 for d in (backoff_seconds(20, 1.0, 60.0, rng) for _ in range(20)))
