"""Key checks, content types and the scheme table of pipelines.storage.base."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harvester import keys
from harvester.exceptions import UnsafeKey
from pipelines.storage.base import Store, check_key, check_prefix, content_type_for, open_store
from pipelines.storage.local import LocalStore
from pipelines.storage.s3 import S3Store
from pipelines.storage.spool import SpoolingStore


def test_layout_keys_are_accepted() -> None:
    for key in [
        keys.record_key("wilson", "114921"),
        keys.file_key("wilson", "114921", "Scan (1).pdf"),
        keys.changes_key("wilson", "20240101T000000Z-abcdef"),
        keys.state_key("wilson", "seen", "part-1"),
        keys.quarantine_key("wilson", "https://example.org/x", "html"),
    ]:
        assert check_key(key) == key


@pytest.mark.parametrize("key", [
    "", "/a", "a/", "a//b", "./a", "a/./b", "a/..", "../a", "a\\b", "a\x00b", "a\tb", "a\x7fb",
    ".tmp", ".tmp/a", "\ud800", "é" * 600,
])
def test_unsafe_keys(key: str) -> None:
    with pytest.raises(UnsafeKey):
        check_key(key)


def test_prefixes_may_be_empty_or_end_anywhere() -> None:
    for prefix in ["", "records/", "records/wil", "records/wilson/11"]:
        assert check_prefix(prefix) == prefix
    for prefix in ["/", "../", "a//", "a/..", "a\\", "a\n"]:
        with pytest.raises(UnsafeKey):
            check_prefix(prefix)


@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=5))
def test_accepted_keys_stay_inside_a_root(parts: list[str]) -> None:
    key = "/".join(parts)
    try:
        check_key(key)
    except UnsafeKey:
        return
    root = Path("/srv/store")
    assert (root / key).resolve().is_relative_to(root)
    assert not key.startswith("/") and ".." not in key.split("/")


def test_content_types_by_suffix() -> None:
    assert content_type_for("records/wilson/1.json") == "application/json"
    assert content_type_for("runs/wilson/x.changes.jsonl") == "application/x-ndjson"
    assert content_type_for("files/wilson/1/SCAN.PDF") == "application/pdf"
    assert content_type_for("raw/wilson/a.warc.gz") == "application/warc"
    assert content_type_for("quarantine/wilson/a.html") == "text/html"
    assert content_type_for("state/wilson/seen") == "application/octet-stream"


def test_open_store_scheme_table(tmp_path: Path) -> None:
    assert isinstance(open_store(str(tmp_path)), LocalStore)
    assert isinstance(open_store(tmp_path.as_uri()), LocalStore)
    s3 = open_store("s3://bucket-a/pre")
    assert isinstance(s3, S3Store)
    for store in [open_store(str(tmp_path)), s3, SpoolingStore(s3, tmp_path / "spool")]:
        assert isinstance(store, Store)
