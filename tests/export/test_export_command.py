"""`harvester export` end to end, against a local store and S3: jsonl, bagit, dc, --since."""

from __future__ import annotations

import json

import bagit
import pytest
from export_support import PDF, RUN1, RUN2, RUN3, Populated
from lxml import etree

from harvester.cli import main
from harvester.export.dc import DC, OAI_DC

ALL_IDS = ["10", "100", "11", "2", "9"]  # byte order of the record id


def export(populated: Populated, fmt: str, out, *extra: str) -> int:
    return main(["export", "--store", populated.uri, "--format", fmt, "--out", str(out), *extra])


def test_jsonl_has_every_record_once_sorted_by_record_id(populated, tmp_path):
    out = tmp_path / "records.jsonl"
    assert export(populated, "jsonl", out) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["record_id"] for r in records] == ALL_IDS
    assert {r["record_id"]: r for r in records} == populated.records  # latest versions


def test_jsonl_since_a_run_has_the_latest_version_of_what_changed_after_it(populated, tmp_path):
    out = tmp_path / "since.jsonl"
    assert export(populated, "jsonl", out, "--since", RUN1) == 0
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["record_id"] for r in records] == ["11", "9"]
    assert records[1]["title"] == "Telegram 9, corrected"
    assert export(populated, "jsonl", out, "--since", RUN2) == 0
    assert [json.loads(x)["record_id"] for x in out.read_text().splitlines()] == ["11"]


def test_jsonl_since_a_date(populated_local, tmp_path, capsys):
    assert export(populated_local, "jsonl", "-", "--since", "2024-05-02") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["record_id"] for line in lines] == ["11", "9"]


def test_since_an_unknown_run_fails_with_one_line(populated_local, tmp_path, capsys):
    code = export(populated_local, "jsonl", tmp_path / "x.jsonl", "--since",
                  "20990101T000000Z-ffffff99")
    assert code == 2
    err = capsys.readouterr().err
    assert "no run" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.jsonl").exists()


def test_bag_validates_and_holds_every_record_and_file(populated, tmp_path):
    out = tmp_path / "bag"
    assert export(populated, "bagit", out) == 0
    bag = bagit.Bag(str(out))
    bag.validate()  # raises BagValidationError when anything is off
    assert bag.version == "1.0"
    assert set(bag.algorithms) == {"sha256", "sha512"}
    assert (out / "manifest-sha256.txt").exists() and (out / "manifest-sha512.txt").exists()
    names = {p.name for p in (out / "data" / "records").iterdir()}
    assert names == {f"{i}.json" for i in ALL_IDS}
    assert (out / "data" / "files" / "100" / "100.pdf").read_bytes() == PDF
    assert (out / "data" / "files" / "100" / "scan 2.pdf").read_bytes() == b"%PDF"
    stored = json.loads((out / "data" / "records" / "9.json").read_text(encoding="utf-8"))
    assert stored == populated.records["9"]
    info = bag.info
    assert info["Source-Organization"] == "Wilson Center Digital Archive"
    assert "Wilson Center Digital Archive" in info["External-Description"]
    assert info["Record-Count"] == "5"
    assert info["File-Count"] == "2"
    assert info["Harvest-Start-Date"] == "2024-05-01T12:00:02Z"  # 9's first version is gone
    assert info["Harvest-End-Date"] == "2024-05-02T12:00:02Z"
    assert info["Bagging-Date"]
    assert info["Payload-Oxum"].endswith(".7")  # 5 records + 2 files


def test_bag_since_a_run_and_refusing_a_non_empty_folder(populated_local, tmp_path, capsys):
    out = tmp_path / "bag"
    assert export(populated_local, "bagit", out, "--since", RUN1) == 0
    bag = bagit.Bag(str(out))
    bag.validate()
    assert bag.info["Record-Count"] == "2"
    assert bag.info["Changed-Since"] == RUN1
    assert export(populated_local, "bagit", out) == 2
    assert "not an empty folder" in capsys.readouterr().err


def test_dc_has_one_valid_oai_dc_file_per_record_with_the_mapping(populated, tmp_path):
    out = tmp_path / "dc"
    assert export(populated, "dc", out) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{i}.xml" for i in ALL_IDS)
    ns = {"oai_dc": OAI_DC, "dc": DC}
    for record_id, record in populated.records.items():
        root = etree.parse(str(out / f"{record_id}.xml")).getroot()
        assert root.tag == f"{{{OAI_DC}}}dc"

        def texts(name: str, root=root) -> list[str]:
            return [e.text for e in root.findall(f"dc:{name}", ns)]

        assert texts("title") == [record["title"].replace("\x01", "").replace("\x0b", "")]
        assert texts("identifier") == [record["url"], record_id]
        assert texts("creator") == record["authors"]
        assert texts("subject") == record["subjects"] + record["people"]
        assert texts("coverage") == record["places"]
        assert texts("language") == record["languages"]
        assert texts("date") == [record["date"]]
        assert texts("type") == [record["type"], "Text"]
        assert texts("rights") == [record["rights"]]
        assert texts("source") == [record["source"], *record["original_archive"]]
        assert texts("publisher") == ["Wilson Center Digital Archive"]
        assert texts("description") == ([record["summary"].replace("\x07", "")]
                                        if record["summary"] else [])
    memo = (out / "10.xml").read_bytes()
    assert b"Memo &lt;to&gt; &amp; \"from\" \xc3\xa9" in memo


@pytest.mark.parametrize("fmt", ["jsonl", "dc"])
def test_export_of_an_empty_store_writes_nothing(tmp_path, fmt):
    out = tmp_path / "out"
    assert main(["export", "--store", str(tmp_path / "empty"), "--format", fmt,
                 "--out", str(out)]) == 0
    assert (out.read_text() == "") if fmt == "jsonl" else (list(out.iterdir()) == [])


def test_a_damaged_bag_fails_validation(populated_local, tmp_path):
    out = tmp_path / "bag"
    assert export(populated_local, "bagit", out) == 0
    (out / "data" / "files" / "100" / "100.pdf").write_bytes(b"%PDF damaged")
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(out)).validate()


# --- withdrawn records -------------------------------------------------------------------
RUN4 = "20240504T120000Z-aaaaaa04"
WITHDRAWN_AT = "2024-05-04T12:00:00Z"


def _withdraw(populated: Populated, record_id: str) -> None:
    """A later run withdrew `record_id` (as the end-of-backfill check does): its record,
    its changes feed line and its report."""
    from harvester.runs import compose_changes, write_report
    from harvester.state import HarvestState
    from harvester.withdrawals import withdraw

    state = HarvestState(populated.store, "wilson")
    line = withdraw(populated.store, state, "wilson", record_id, RUN4, WITHDRAWN_AT)
    assert line is not None
    compose_changes(populated.store, state, "wilson", RUN4, lines=[line])
    write_report(populated.store, {"site": "wilson", "run_id": RUN4, "status": "finished"})


def test_jsonl_carries_withdrawn_records_with_their_status(populated_local, tmp_path):
    _withdraw(populated_local, "10")
    out = tmp_path / "records.jsonl"
    assert export(populated_local, "jsonl", out) == 0
    records = {r["record_id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert sorted(records) == sorted(ALL_IDS)
    assert records["10"]["status"] == "withdrawn"
    assert records["10"]["withdrawn_at"] == WITHDRAWN_AT
    assert records["10"]["title"] == populated_local.records["10"]["title"]  # content kept
    assert {r["status"] for i, r in records.items() if i != "10"} == {"active"}


@pytest.mark.parametrize("fmt", ["bagit", "dc"])
def test_bag_and_dc_leave_withdrawn_records_out_unless_asked(populated_local, tmp_path, fmt):
    _withdraw(populated_local, "10")
    name = "data/records/10.json" if fmt == "bagit" else "10.xml"
    plain, asked = tmp_path / "plain", tmp_path / "asked"
    assert export(populated_local, fmt, plain) == 0
    assert export(populated_local, fmt, asked, "--include-withdrawn") == 0
    assert not (plain / name).exists() and (asked / name).exists()
    if fmt == "bagit":
        bagit.Bag(str(plain)).validate()
        bag = bagit.Bag(str(asked))
        bag.validate()
        assert bagit.Bag(str(plain)).info["Record-Count"] == "4"
        assert bag.info["Record-Count"] == "5" and bag.info["Withdrawn-Count"] == "1"
        assert json.loads((asked / name).read_text())["status"] == "withdrawn"
    else:
        assert len(list(plain.iterdir())) == 4
        root = etree.parse(str(asked / name)).getroot()
        notes = [e.text for e in root.findall("dc:description", {"dc": DC})]
        assert any("Withdrawn" in n and WITHDRAWN_AT in n for n in notes)


def _exported(fmt: str, out) -> dict[str, str]:
    """Record id -> status of what an export holds."""
    if fmt == "jsonl":
        return {r["record_id"]: r["status"] for r in map(json.loads, out.read_text().splitlines())}
    if fmt == "bagit":
        bagit.Bag(str(out)).validate()
        return {p.stem: json.loads(p.read_text())["status"]
                for p in (out / "data" / "records").iterdir()}
    ns = {"dc": DC}
    return {p.stem: ("withdrawn" if any("Withdrawn" in (e.text or "") for e in
                                        etree.parse(str(p)).getroot().findall("dc:description",
                                                                              ns))
                     else "active") for p in out.iterdir()}


@pytest.mark.parametrize("fmt", ["jsonl", "bagit", "dc"])
@pytest.mark.parametrize("since", [RUN3, "2024-05-04"])
def test_since_exports_carry_the_withdrawal(populated_local, tmp_path, fmt, since):
    # the feed line names the record, and carries the time the withdrawal was confirmed
    _withdraw(populated_local, "10")
    out = tmp_path / "since"
    assert export(populated_local, fmt, out, "--since", since) == 0
    assert _exported(fmt, out) == {"10": "withdrawn"}
