"""`harvester export` end to end, against a local store and S3: jsonl, bagit, dc, --since."""

from __future__ import annotations

import json

import bagit
import pytest
from export_support import PDF, RUN1, RUN2, Populated
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
