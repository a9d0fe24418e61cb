"""Requests benchmark: what an incremental run costs after k new uploads.

    python bench/request_counts.py [--docs 16000] [--ks 1,7,10,25]

A sample archive of --docs documents is served (`serve_subprocess`). The local store is
seeded as a completed backfill would leave it, without crawling 16,000 pages first: for
every document, through the harvester's own code,
  - its record: the ground-truth fields finalised by harvester.record.finalize, its files
    fetched from the sample archive's own routing (the bytes the server sends) and named,
    keyed and hashed by pipelines.files.file_name / harvester.keys.file_key, stored with
    pipelines.store.encode_record under harvester.keys.record_key;
  - its files under files/<site>/<record_id>/;
  - its seen marker, by HarvestState.mark_seen (the listing URL, the record's hash, the
    campaign), and the completed backfill campaign, by HarvestState.save_backfill.
(Not seeded: WARC captures and their payload markers, run reports; an incremental run
reads neither to decide what to fetch.) The store is written without fsync (seeding only).

Then, for each k in turn: k uploads are published, the server's request counters reset,
and the harvester runs (auto mode: incremental). Requests are counted by the server, by
kind; robots.txt and PDFs (download, preview) are set aside. Each run must store the k new
records. Target: at most k + ceil(k/10) + 2 requests.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Heartbeat, harvest, verdict, workdir, write_result  # noqa: E402
from harvester.sample import serve_subprocess  # noqa: E402

EXCLUDED = ("robots", "download", "preview")


def seed_store(root: Path, size: int, base_url: str) -> float:
    """A store as a completed backfill of the first `size` sample documents leaves it."""
    from urllib.parse import urlsplit

    from harvester.context import new_run_id
    from harvester.keys import file_key, record_key
    from harvester.record import finalize
    from harvester.sample import SampleArchive
    from harvester.sample.routes import route
    from harvester.state import HarvestState
    from pipelines.files import file_name
    from pipelines.storage.local import LocalStore
    from pipelines.store import JSON, encode_record

    started = time.perf_counter()
    store = LocalStore(root, fsync=False)
    state = HarvestState(store, "wilson")
    archive = SampleArchive(size, 0)
    campaign = new_run_id()
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for i in range(size):
        fields = archive.expected_record(i)
        fields.pop("site", None)
        rid = fields["record_id"]
        used: set[str] = set()
        files = []
        for index, entry in enumerate(fields["files"]):
            path = urlsplit(entry["url"]).path
            response = route(archive, "GET", path, None)
            disposition = dict(response.headers).get("Content-Disposition", "")
            key = file_key("wilson", rid, file_name(path, disposition, rid, index))
            n = 1
            while key in used:
                key = file_key("wilson", rid, f"{n}-{file_name(path, disposition, rid, index)}")
                n += 1
            used.add(key)
            store.put(key, response.body)
            files.append({"url": entry["url"], "key": key,
                          "sha256": hashlib.sha256(response.body).hexdigest(),
                          "size": len(response.body),
                          "content_type": response.content_type.split(";")[0]})
        fields["files"] = [{"url": f["url"], "key": None, "sha256": None, "size": None,
                            "content_type": None} for f in files]
        record = finalize(fields, site="wilson", harvested_at=now)
        record["files"] = files
        store.put(record_key("wilson", rid), encode_record(record), content_type=JSON)
        state.mark_seen(f"{base_url}/document/{archive.slug(i)}", rid, record["content_sha256"],
                        campaign)
    state.save_backfill({"id": campaign, "status": "complete",
                         "cursor": archive.total_pages - 1, "started_at": now,
                         "finished_at": now})
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=16000)
    parser.add_argument("--ks", default="1,7,10,25")
    args = parser.parse_args(argv)
    ks = [int(k) for k in args.ks.split(",")]
    rows = []
    with serve_subprocess(size=args.docs) as (base_url, control), workdir("requests") as tmp, \
            Heartbeat():
        store = tmp / "store"
        seconds = seed_store(store, args.docs, base_url)
        print(f"seeded a store of {args.docs} documents in {seconds:.0f} s", flush=True)
        records = store / "records" / "wilson"
        for k in ks:
            before = sum(1 for _ in records.glob("*.json"))
            new_ids = control.publish(k)
            control.reset_stats()
            child = harvest(str(store), base_url, tmp / "work")
            stats = control.stats()
            by_kind = stats["by_kind"]
            counted = sum(n for kind, n in by_kind.items() if kind not in EXCLUDED)
            allowed = k + math.ceil(k / 10) + 2
            stored = all((records / f"{rid}.json").is_file() for rid in new_ids)
            after = sum(1 for _ in records.glob("*.json"))
            ok = counted <= allowed and stored and after - before == k
            detail = ", ".join(f"{kind} {n}" for kind, n in sorted(by_kind.items()))
            print(f"  k={k:<3} {counted} requests (allowed {allowed}; {detail}); "
                  f"{after - before} new records; {child.seconds:.1f} s", flush=True)
            rows.append({
                "benchmark": f"Incremental run after k={k} uploads ({args.docs}-doc archive)",
                "measured": f"{counted} requests ({after - before} new records)",
                "target": f"<= {allowed}", "ratio": round(counted / allowed, 2), "ok": ok,
                "command": "python bench/request_counts.py",
            })
    for row in rows:
        print(f"{row['benchmark']}: {row['measured']} (target {row['target']}) "
              f"{verdict(row['ok'])}")
    write_result("requests", rows)
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
