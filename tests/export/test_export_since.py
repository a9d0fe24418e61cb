"""--since: run ids and dates resolved through the changes feeds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from export_support import SITE, make_record, put_run

from harvester.exceptions import ConfigError
from harvester.export.since import Since, changed_since, parse_since
from pipelines.storage.local import LocalStore

RUN1 = "20240501T120000Z-aaaaaa01"
RUN2 = "20240502T120000Z-aaaaaa02"
RUN3 = "20240503T120000Z-aaaaaa03"


@pytest.fixture
def store(tmp_path):
    store = LocalStore(tmp_path / "store")
    put_run(store, RUN1, [make_record(i, "2024-05-01T12:00:05Z") for i in ("1", "2", "3")])
    put_run(store, RUN2, [make_record("2", "2024-05-02T12:00:05Z")], change="changed")
    put_run(store, RUN3, [make_record(i, "2024-05-03T12:00:05Z") for i in ("3", "4")])
    return store


def test_parse_since_takes_run_ids_and_iso_times():
    assert parse_since(RUN1) == Since(run_id=RUN1)
    assert parse_since("2024-05-02") == Since(when=datetime(2024, 5, 2, tzinfo=UTC))
    assert parse_since("2024-05-02T14:00:00+02:00") == Since(
        when=datetime(2024, 5, 2, 12, tzinfo=UTC))
    assert parse_since("2024-05-02T12:00:00Z").when == datetime(2024, 5, 2, 12, tzinfo=UTC)
    with pytest.raises(ConfigError):
        parse_since("last tuesday")


def test_since_a_run_follows_the_feeds_of_later_runs(store):
    assert changed_since(store, SITE, Since(run_id=RUN1)) == {"2", "3", "4"}
    assert changed_since(store, SITE, Since(run_id=RUN2)) == {"3", "4"}
    assert changed_since(store, SITE, Since(run_id=RUN3)) == set()


def test_since_an_unknown_run_is_an_error(store):
    with pytest.raises(ConfigError, match="no run"):
        changed_since(store, SITE, Since(run_id="20240509T120000Z-bbbbbb09"))


def test_since_a_date_takes_lines_harvested_at_or_after_it(store):
    assert changed_since(store, SITE, parse_since("2024-05-02")) == {"2", "3", "4"}
    assert changed_since(store, SITE, parse_since("2024-05-03T12:00:05Z")) == {"3", "4"}
    assert changed_since(store, SITE, parse_since("2024-05-04")) == set()
