"""A document edited with new PDF bytes under the same URLs: the earlier bytes are kept, the
superseded version of the record points at them, and a file whose bytes did not change is
not written again (sample archive in a child process, the real CLI, local store and S3)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from crawl_support import harvest, latest_report, local_records, local_reports


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harvester.cli", *args], capture_output=True,
                          text=True, timeout=120)


def _with_files(records: dict[str, dict]) -> list[str]:
    return sorted(rid for rid, r in records.items() if len(r["files"]) >= 1)


def test_replaced_pdfs_are_kept_and_unchanged_ones_not_rewritten(tmp_path: Path,
                                                                  sample) -> None:
    base_url, control = sample
    store = tmp_path / "store"
    assert harvest(str(store), base_url).code == 0
    before = local_records(store)
    replaced, edited = _with_files(before)[:2]
    old_bytes = {f["key"]: (store / f["key"]).read_bytes() for f in before[replaced]["files"]}
    edited_stat = {f["key"]: (store / f["key"]).stat() for f in before[edited]["files"]}

    control.edit(replaced, replace_files=True)  # new text and new PDF bytes, same URLs
    control.edit(edited)  # new text, the same PDFs
    run = harvest(str(store), base_url, "--mode", "backfill")
    assert run.code == 0, run.stderr[-2000:]
    after = local_records(store)

    # the latest record names the new bytes, at the same keys as before
    new = after[replaced]
    assert [f["key"] for f in new["files"]] == [f["key"] for f in before[replaced]["files"]]
    for entry in new["files"]:
        body = (store / entry["key"]).read_bytes()
        assert _sha(body) == entry["sha256"] != _sha(old_bytes[entry["key"]])
        assert len(body) == entry["size"]
    # the superseded version is the record as it was, its files at the kept earlier bytes
    version = json.loads((store / "versions" / "wilson" / replaced /
                          f"{before[replaced]['content_sha256']}.json").read_text())
    assert {k: v for k, v in version.items() if k != "files"} == \
        {k: v for k, v in before[replaced].items() if k != "files"}
    for old, kept in zip(before[replaced]["files"], version["files"], strict=True):
        name = old["key"].rsplit("/", 1)[-1]
        assert kept == {**old, "key": f"versions/wilson/{replaced}/files/{old['sha256']}/{name}"}
        body = (store / kept["key"]).read_bytes()
        assert body == old_bytes[old["key"]]
        assert _sha(body) == old["sha256"] and len(body) == old["size"]

    # the document edited without new PDFs: its files are the same objects, not rewritten
    for entry in after[edited]["files"]:
        stat = (store / entry["key"]).stat()
        assert (stat.st_ino, stat.st_mtime_ns) == (edited_stat[entry["key"]].st_ino,
                                                   edited_stat[entry["key"]].st_mtime_ns)
    edited_version = json.loads((store / "versions" / "wilson" / edited /
                                 f"{before[edited]['content_sha256']}.json").read_text())
    assert edited_version == before[edited]  # its files are where they were
    report = latest_report(local_reports(store))
    assert report["counts"]["changed"] == 2
    assert report["counts"]["files_stored"] == len(new["files"])
    assert report["stats"]["files/unchanged"] == len(after[edited]["files"])
    assert report["stats"]["files/earlier_kept"] == len(new["files"])

    # a second replacement keeps the first replacement's bytes too; the store verifies
    control.edit(replaced, replace_files=True)
    assert harvest(str(store), base_url, "--mode", "backfill").code == 0
    latest = local_records(store)[replaced]
    kept = sorted(p.relative_to(store).as_posix()
                  for p in (store / "versions" / "wilson" / replaced / "files").rglob("*")
                  if p.is_file())
    shas = {e["sha256"] for e in before[replaced]["files"] + new["files"]}
    assert len(kept) == len(shas) == 2 * len(new["files"])
    assert {k.split("/")[-2] for k in kept} == shas
    assert not {e["sha256"] for e in latest["files"]} & shas
    verified = _cli("verify", "--store", str(store))
    assert verified.returncode == 0, verified.stdout[-2000:]
    status = _cli("status", "--store", str(store))
    assert f"{len(kept)} earlier files kept" in status.stdout, status.stdout
    assert "3 earlier versions" in status.stdout, status.stdout

    # bytes tampered with under the kept name are a problem verify reports
    (store / kept[0]).write_bytes(b"not the earlier bytes")
    tampered = _cli("verify", "--store", str(store))
    assert tampered.returncode == 1
    assert f"PROBLEM {kept[0]}: kept file does not match" in tampered.stdout


def test_replaced_pdfs_are_kept_in_s3(tmp_path: Path, sample, s3_server) -> None:
    base_url, control = sample
    bucket = s3_server.new_bucket("replaced")
    client = s3_server.client
    env = {"AWS_ENDPOINT_URL": s3_server.endpoint_url,
           "HARVESTER_SPOOL_DIR": str(tmp_path / "spool")}
    uri = f"s3://{bucket}/da"

    def get(key: str) -> bytes:
        return client.get_object(Bucket=bucket, Key=f"da/{key}")["Body"].read()

    def record(rid: str) -> dict:
        return json.loads(get(f"records/wilson/{rid}.json"))

    assert harvest(uri, base_url, env=env).code == 0
    listed = client.list_objects_v2(Bucket=bucket, Prefix="da/records/wilson/")["Contents"]
    before = {r["record_id"]: r for r in
              (json.loads(get(o["Key"][3:])) for o in listed)}
    replaced, edited = _with_files(before)[:2]
    old_bytes = {f["key"]: get(f["key"]) for f in before[replaced]["files"]}
    edited_etags = {f["key"]: client.head_object(Bucket=bucket, Key=f"da/{f['key']}")
                    ["LastModified"] for f in before[edited]["files"]}
    control.edit(replaced, replace_files=True)
    control.edit(edited)
    run = harvest(uri, base_url, "--mode", "backfill", env=env)
    assert run.code == 0, run.stderr[-2000:]

    version = json.loads(get(f"versions/wilson/{replaced}/"
                             f"{before[replaced]['content_sha256']}.json"))
    for old, kept in zip(before[replaced]["files"], version["files"], strict=True):
        assert kept["key"].startswith(f"versions/wilson/{replaced}/files/{old['sha256']}/")
        assert get(kept["key"]) == old_bytes[old["key"]]
    for entry in record(replaced)["files"]:
        assert _sha(get(entry["key"])) == entry["sha256"] != _sha(old_bytes[entry["key"]])
    for key, modified in edited_etags.items():  # not written again
        assert client.head_object(Bucket=bucket, Key=f"da/{key}")["LastModified"] == modified
