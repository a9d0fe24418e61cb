"""harvester.keys: any identifier maps to a safe, reversible key inside its record's place
(issue 14), today's keys stay exactly as they are, and a store holding records under such
identifiers is stored, exported and verified like any other."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harvester import keys
from harvester.cli import main as cli
from harvester.commands.status import site_summary
from harvester.context import RunContext
from harvester.exceptions import UnsafeKey
from harvester.items import DocumentItem
from harvester.record import finalize
from harvester.state import HarvestState
from harvester.withdrawals import record_ids_in_store
from pipelines.dedup import classify, load_record
from pipelines.storage.base import check_key
from pipelines.storage.local import LocalStore
from pipelines.storage.spool import SpoolingStore
from pipelines.store import StorePipeline

SHA = "a" * 64
PART = re.compile(r"[A-Za-z0-9_!][A-Za-z0-9_.!-]*")  # the characters a key part may hold
OAI = "oai:example.org:123/x"

# --- the encoding ----------------------------------------------------------------------


@pytest.mark.parametrize(("identifier", "part"), [
    ("oai:example.org:123", "oai!3Aexample.org!3A123"),
    (OAI, "oai!3Aexample.org!3A123!2Fx"),
    ("a/b", "a!2Fb"),
    ("..", "!2E!2E"),
    ("../../etc/passwd", "!2E!2E!2F.!2E!2Fetc!2Fpasswd"),
    (".hidden", "!2Ehidden"),
    ("a..b", "a.!2Eb"),
    ("\u00fc", "!C3!BC"),
    ("two words", "two!20words"),
    (" ", "!20"),
    ("%", "!25"),
    ("100%", "100!25"),
    ("!", "!21"),
    ("-1", "!2D1"),
    ("A\u00e9\U0001f600", "A!C3!A9!F0!9F!98!80"),
    ("line\nbreak", "line!0Abreak"),
])
def test_identifiers_round_trip_through_their_key_part(identifier: str, part: str) -> None:
    assert keys.id_to_key_part(identifier) == part
    assert keys.key_part_to_id(part) == identifier
    assert keys.record_key("wilson", identifier) == f"records/wilson/{part}.json"
    assert keys.record_id_of_key("wilson", f"records/wilson/{part}.json") == identifier


@pytest.mark.parametrize("identifier", ["100005", "117029", "9", "a-1.b", "A_b.c-d", "x.",
                                        "1" * 64])
def test_plain_ids_keep_their_keys_exactly(identifier: str) -> None:
    assert keys.id_to_key_part(identifier) == identifier
    assert keys.key_part_to_id(identifier) == identifier


def test_todays_keys_of_a_wilson_record_are_unchanged() -> None:
    assert keys.record_key("wilson", "100005") == "records/wilson/100005.json"
    assert keys.file_key("wilson", "100005", "Scan (1).pdf") == "files/wilson/100005/Scan (1).pdf"
    assert keys.file_key("wilson", "100005", "..") == "files/wilson/100005/100005.pdf"
    assert keys.fallback_file_name("100005", 2) == "100005-2.pdf"
    assert keys.version_key("wilson", "100005", SHA) == f"versions/wilson/100005/{SHA}.json"
    assert (keys.withdrawn_version_key("wilson", "100005", SHA, "2026-01-02T03:04:05Z")
            == f"versions/wilson/100005/{SHA}.withdrawn-20260102T030405Z.json")
    assert keys.missing_key("wilson", "100005") == "state/wilson/missing/100005.json"
    assert keys.record_prefix("wilson") == "records/wilson/"
    assert keys.runs_prefix("wilson") == "runs/wilson/"
    assert keys.missing_prefix("wilson") == "state/wilson/missing/"


def test_kept_file_keys_carry_their_sha256() -> None:
    kept = keys.file_version_key("wilson", "100005", SHA, "Scan (1).pdf")
    assert kept == f"versions/wilson/100005/files/{SHA}/Scan (1).pdf"
    assert keys.file_version_sha(kept) == SHA
    odd = keys.file_version_key("oai", "oai:x:a/b", SHA, "../x.pdf")  # unsafe name replaced
    assert odd.startswith(f"versions/oai/oai!3Ax!3Aa!2Fb/files/{SHA}/") and ".." not in odd
    assert keys.file_version_sha(odd) == SHA
    for other in (keys.version_key("wilson", "files", SHA), f"versions/wilson/1/{SHA}.json",
                  f"versions/wilson/1/files/{SHA[:-1]}/a.pdf", "files/wilson/1/a.pdf"):
        assert keys.file_version_sha(other) == ""
    with pytest.raises(UnsafeKey):
        keys.file_version_key("wilson", "100005", "not-a-digest", "a.pdf")


@pytest.mark.parametrize("part", [
    "", "a/b", "..", ".x", "-x", "a..b", "a!3a", "!61", "!2", "!ZZ", "a%3A", "a b", "!C3",
    "!FF", "!ED!A0!80", "\u00fc", "x" * 201,
])
def test_what_is_not_a_key_part_is_refused(part: str) -> None:
    with pytest.raises(UnsafeKey):
        keys.key_part_to_id(part)
    assert keys.record_id_of_key("wilson", f"records/wilson/{part}.json") is None


@pytest.mark.parametrize("identifier", ["", "\ud800", "x" * 201 + "\ud800", None, 5])
def test_identifiers_without_a_key_are_refused(identifier: Any) -> None:
    with pytest.raises(UnsafeKey):
        keys.id_to_key_part(identifier)
    with pytest.raises(UnsafeKey):
        keys.record_key("wilson", identifier)
    assert not keys.is_record_id(identifier)


@pytest.mark.parametrize("identifier", [
    "x" * 201, "\u00fc" * 34, "oai:r.test:" + "x" * 300, "oai:r:" + "\u4e2d" * 30,
    "oai:r:" + "\u0416" * 40, "a" * 148 + "!" * 30, "\U0001f600" * 20, "x" * 5000])
def test_a_long_identifier_has_a_hashed_key_part(identifier: str) -> None:
    """Over 200 bytes escaped: the escaped form's head, "~" and 40 hex digits of its
    SHA-256; one part per id, within bounds, never decoded (the id is read from the
    object), never a part another id has."""
    part = keys.id_to_key_part(identifier)
    assert keys.is_hashed_part(part) and len(part) <= keys.MAX_KEY_PART_BYTES
    head, digest = part.split(keys.HASHED)
    assert digest == hashlib.sha256(identifier.encode()).hexdigest()[:40]
    escaped = "".join(keys.key_part_units(identifier))
    assert escaped.startswith(head) and keys.HASHED_HEAD_BYTES - 2 <= len(head) \
        <= keys.HASHED_HEAD_BYTES
    assert not re.search(r"![0-9A-F]?$", head)  # never cut inside an escape
    assert keys.id_to_key_part(identifier) == part and keys.is_record_id(identifier)
    assert keys.id_to_key_part(identifier + "y") != part
    with pytest.raises(UnsafeKey):
        keys.key_part_to_id(part)
    key = keys.record_key("wilson", identifier)
    assert keys.record_id_of_key("wilson", key) is None
    assert keys.fallback_file_name(identifier, 2) == part + "-2.pdf"
    assert keys.file_key("wilson", identifier, "..").endswith(f"/{part}/{part}.pdf")


def test_the_longest_identifier_has_a_key() -> None:
    assert keys.id_to_key_part("x" * 200) == "x" * 200
    assert keys.id_to_key_part("\u00fc" * 33) == "!C3!BC" * 33  # 198 bytes
    assert len(keys.file_key("wilson", "\u00fc" * 33, "../bad")) < 1024


def test_a_second_file_of_an_escaped_record_gets_its_own_name() -> None:
    # pipelines/files.py names a clashing file "<n>-<name>": it must not fall back to the
    # first name again (which would loop forever)
    first = keys.file_key("wilson", OAI, keys.fallback_file_name(OAI))
    second = keys.file_key("wilson", OAI, "1-" + first.rsplit("/", 1)[-1])
    assert first == "files/wilson/oai!3Aexample.org!3A123!2Fx/oai!3Aexample.org!3A123!2Fx.pdf"
    assert second != first and second.startswith(keys.files_prefix("wilson", OAI))


IDS = st.text(min_size=1, max_size=40) | st.sampled_from(
    [OAI, "..", ".", "/", "a/../b", ".hidden", "a..b", "%2F", "!2F", "\x00", "CON", "-"])


@settings(max_examples=500, deadline=None, database=None)
@given(IDS)
def test_any_identifier_round_trips_and_its_keys_stay_in_place(identifier: str) -> None:
    try:
        part = keys.id_to_key_part(identifier)
    except UnsafeKey:
        with pytest.raises(UnicodeEncodeError):  # only an id that is not Unicode
            identifier.encode("utf-8")
        return
    hashed = keys.is_hashed_part(part)
    if hashed:  # a long id (over 200 bytes escaped): no id back from its key
        assert len(part) > 0 and len("".join(keys.key_part_units(identifier))) > 200
        with pytest.raises(UnsafeKey):
            keys.key_part_to_id(part)
    else:
        assert keys.key_part_to_id(part) == identifier
        assert PART.fullmatch(part)
    assert ".." not in part and len(part) <= keys.MAX_KEY_PART_BYTES
    built = {
        keys.record_key("wilson", identifier): keys.record_prefix("wilson"),
        keys.version_key("wilson", identifier, SHA): keys.versions_prefix("wilson", identifier),
        keys.file_key("wilson", identifier, "x/../y"): keys.files_prefix("wilson", identifier),
        keys.file_key("wilson", identifier, "Scan 1.pdf"): keys.files_prefix("wilson", identifier),
        keys.missing_key("wilson", identifier): keys.missing_prefix("wilson"),
    }
    for key, prefix in built.items():
        assert check_key(key) == key
        assert key.startswith(prefix) and "/" not in key[len(prefix):]
        assert not any(s in ("", ".", "..") or s.startswith(".") for s in key.split("/"))
    expected = None if hashed else identifier
    assert keys.record_id_of_key("wilson", keys.record_key("wilson", identifier)) == expected
    assert keys.missing_id_of_key("wilson", keys.missing_key("wilson", identifier)) == expected


@settings(max_examples=300, deadline=None, database=None)
@given(IDS, IDS)
def test_different_identifiers_never_share_a_key(a: str, b: str) -> None:
    try:
        same = keys.id_to_key_part(a) == keys.id_to_key_part(b)
    except UnsafeKey:
        return
    assert same == (a == b)


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet="aZ09_.-!%/ACF3", max_size=12))
def test_a_part_decodes_only_in_its_one_canonical_form(part: str) -> None:
    try:
        identifier = keys.key_part_to_id(part)
    except UnsafeKey:
        return
    assert keys.id_to_key_part(identifier) == part


def _outcome(decode: Any, part: str) -> tuple[str, str]:
    try:
        return "id", decode(part)
    except UnsafeKey as exc:
        return "refused", str(exc)


@settings(max_examples=400, deadline=None, database=None)
@given(st.lists(st.sampled_from(["a", "Z9", "_", ".", "-", "!3A", ":", "!3a", "!2E", "!2F",
                                 "/", "!2f", "!21", "!"]),
                min_size=1, max_size=10).map("".join))
def test_parts_with_escaped_colons_decode_as_the_character_loop_decodes_them(part: str) -> None:
    """The ":" and "/" fast path (OAI-PMH identifiers) answers as the loop does, reasons
    too."""
    assert _outcome(keys.key_part_to_id, part) == _outcome(
        lambda p: keys._decode_slow(p, keys.MAX_KEY_PART_BYTES), part)


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet="a9_.-:/!", min_size=1, max_size=16))
def test_ids_with_colons_get_the_key_part_of_the_character_rule(identifier: str) -> None:
    expected = "".join(keys._units_slow(identifier))
    assert keys.id_to_key_part(identifier) == expected
    assert keys.key_part_to_id(expected) == identifier


# --- a store holding records of such identifiers ---------------------------------------

IDENTIFIERS = [OAI, "100005", "..", "\u00fc b", "a%2Fb"]


def fields(record_id: str, title: str) -> dict[str, Any]:
    return {
        "record_id": record_id, "node_id": None,
        "url": f"https://example.org/record/{len(record_id)}", "title": title, "date": "1962",
        "date_text": None, "summary": None,
        "texts": [{"kind": "original", "language": None, "text": "Text."}],
        "authors": [], "places": [], "subjects": [], "people": [], "source": None,
        "original_archive": [], "rights": None, "uploaded": None, "type": None,
        "languages": [], "classification": None, "donors": [], "credits": None, "files": [],
    }


def store_records(root: Path, records: list[dict[str, Any]]) -> None:
    """Through StorePipeline, classified against the store as DedupPipeline does."""
    inner = LocalStore(root)
    store = SpoolingStore(inner, root.parent / "spool")
    ctx = RunContext(site="wilson", store_uri=str(root), store=store,
                     state=HarvestState(store, "wilson"), run_id="20260101T000000Z-abcdef",
                     started_at="2026-01-01T00:00:00Z", executor=ThreadPoolExecutor(1))
    pipeline = StorePipeline(ctx, type("Stats", (), {"inc_value": lambda *a, **k: None})())

    async def run() -> None:
        for record in records:
            previous = load_record(store, "wilson", record["record_id"])
            status = classify(record, previous)
            await pipeline.process_document(DocumentItem(
                url=record["url"], listing_url=record["url"], record=record, status=status,
                previous=previous))
        await pipeline.close_spider()

    asyncio.run(run())
    ctx.close()


def test_records_of_any_identifier_are_stored_exported_and_verified(tmp_path: Path,
                                                                    capsys) -> None:
    root = tmp_path / "store"
    scan = b"%PDF-1.4 scan"
    file_key = keys.file_key("wilson", OAI, "scan.pdf")
    LocalStore(root).put(file_key, scan)
    first = [finalize(fields(i, f"Document {i}"), site="wilson",
                      harvested_at="2026-01-01T00:00:00Z") for i in IDENTIFIERS]
    changed = finalize(dict(fields(OAI, "Document, corrected"), files=[{
        "url": "https://example.org/scan.pdf", "key": file_key,
        "sha256": hashlib.sha256(scan).hexdigest(), "size": len(scan),
        "content_type": "application/pdf"}]), site="wilson", harvested_at="2026-01-02T00:00:00Z")
    store_records(root, [*first, changed])

    assert (root / "records" / "wilson" / "oai!3Aexample.org!3A123!2Fx.json").is_file()
    assert (root / "records" / "wilson" / "100005.json").is_file()  # as today
    assert [p.name for p in (root / "versions" / "wilson").iterdir()] == [
        "oai!3Aexample.org!3A123!2Fx"]
    store = LocalStore(root)
    assert sorted(record_ids_in_store(store, "wilson")) == sorted(IDENTIFIERS)
    summary = site_summary(store, "wilson")
    assert (summary["records"], summary["versions"], summary["files"]) == (5, 1, 1)

    out = tmp_path / "records.jsonl"
    assert cli(["export", "--store", str(root), "--format", "jsonl", "--out", str(out)]) == 0
    exported = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["record_id"] for r in exported] == sorted(IDENTIFIERS)
    assert next(r for r in exported if r["record_id"] == OAI) == changed

    capsys.readouterr()
    assert cli(["verify", "--store", str(root)]) == 0
    assert capsys.readouterr().out.strip().endswith(
        "verified 5 records, 1 files, 1 earlier versions in " + str(root) + ": OK")

    bag = tmp_path / "bag"
    assert cli(["export", "--store", str(root), "--format", "bagit", "--out", str(bag)]) == 0
    assert (bag / "data" / "records" / "oai!3Aexample.org!3A123!2Fx.json").is_file()
    assert (bag / "data" / "files" / "oai!3Aexample.org!3A123!2Fx" / "scan.pdf").read_bytes() == scan


def test_verify_finds_a_record_stored_under_another_identifiers_key(tmp_path: Path,
                                                                   capsys) -> None:
    root = tmp_path / "store"
    record = finalize(fields(OAI, "Document"), site="wilson", harvested_at="2026-01-01T00:00:00Z")
    LocalStore(root).put("records/wilson/oai!3Aexample.org!3A123.json",
                         json.dumps(record).encode("utf-8"))
    assert cli(["verify", "--store", str(root)]) == 1
    assert f"holds record {OAI!r}" in capsys.readouterr().out
