"""A populated store, local or S3 (moto on loopback), for the export command tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from export_support import (
    PDF,
    RUN1,
    RUN2,
    RUN3,
    Populated,
    make_record,
    put_file,
    put_record,
    put_run,
)

from pipelines.storage import Store, open_store


def _populate(store: Store) -> dict[str, dict[str, Any]]:
    files = [put_file(store, "100", "100.pdf", PDF), put_file(store, "100", "scan 2.pdf", b"%PDF")]
    first = {
        "9": make_record("9", "2024-05-01T12:00:01Z"),
        "10": make_record("10", "2024-05-01T12:00:02Z", title="Memo <to> & \"from\" \u00e9"),
        "100": make_record("100", "2024-05-01T12:00:03Z", files=files),
        "2": make_record("2", "2024-05-01T12:00:04Z",
                         title="Control\x01 chars\x0b kept out", summary="bell\x07 end"),
    }
    for record in first.values():
        put_record(store, record)
    put_run(store, RUN1, list(first.values()))
    changed = make_record("9", "2024-05-02T12:00:01Z", title="Telegram 9, corrected")
    added = make_record("11", "2024-05-02T12:00:02Z", authors=[], places=[], summary=None)
    for record in (changed, added):
        put_record(store, record)
    put_run(store, RUN2, [changed], change="changed")
    put_run(store, RUN3, [added])
    return {**first, "9": changed, "11": added}


@pytest.fixture(params=["local", "s3"])
def populated(request, tmp_path, monkeypatch) -> Iterator[Populated]:
    yield from _store(request.param, request, tmp_path, monkeypatch)


@pytest.fixture
def populated_local(request, tmp_path, monkeypatch) -> Iterator[Populated]:
    yield from _store("local", request, tmp_path, monkeypatch)


def _store(kind: str, request, tmp_path, monkeypatch) -> Iterator[Populated]:
    if kind == "local":
        uri = str(tmp_path / "store")
    else:
        moto = request.getfixturevalue("moto_s3")
        monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint_url)
        uri = f"s3://{moto.new_bucket('export')}/harvest"
    store = open_store(uri)
    try:
        yield Populated(uri, store, _populate(store))
    finally:
        close = getattr(store, "close", None)
        if callable(close):
            close()
