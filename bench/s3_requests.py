"""Store requests per document, by kind: a backfill and an idle incremental run, into a
local store and into S3 (Ceph RGW), side by side.

    python bench/s3_requests.py [--docs 500 1500] [--s3 ceph|moto]

For each size of --docs (500 and 1,500 by default), one sample archive of that many
documents is served. Then, in one run:
  1. local: a backfill into a fresh local store, then an idle incremental run (nothing
     new), each through bench/counted_harvest.py, which counts the local store's calls;
  2. S3: the same two runs into a fresh bucket, through a counting proxy on loopback in
     front of the S3 server (tests/services/s3_counter.py): every HTTP request the
     harvester sends, counted from outside, by operation and kind (the key's folder).

Printed: the requests of each kind per stored document, local and S3, and the totals; the
bookkeeping (every request but the record and file PUTs) per document, by what it is for
(journal parts, checkpoints: seen markers with the campaign's cursor, the campaign, the run
reports, the WARC capture's objects, listings); with two sizes or more, the bookkeeping split
into a part fixed per run and a part per document (a line through the sizes' totals).
Targets (issue 17), S3:
  - at most 2 requests per stored document "record and file": the record PUT and one
    file PUT per document; files beyond one per document (the sample has ~1.2) are extra
    objects, not overhead, and are set apart in the check;
  - at most 5 requests on an idle incremental run beside the listing (the LIST requests,
    shown apart).
The counted runs use the default settings, the OAI-PMH index on (issue 16: index/oai/,
updated after each run): what users get and outside checks measure. The same two S3 runs
with the index off (-s HARVESTER_OAI_INDEX=False) are measured beside them, as extra
information: the difference is what the index adds.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from services.s3_counter import CountingProxy  # noqa: E402

from bench.common import (  # noqa: E402
    FAKE_AWS,
    PYTHON,
    ROOT,
    SPEED,
    create_bucket,
    run_child,
    s3_server,
    verdict,
    workdir,
    write_result,
)
from harvester.sample import serve_subprocess  # noqa: E402

PER_DOC_TARGET = 2.0
IDLE_TARGET = 5
NO_INDEX = ("-s", "HARVESTER_OAI_INDEX=False")
Counts = Counter[tuple[str, str]]


def counted_local(store: Path, base_url: str, tmp: Path, name: str) -> Counts:
    out = tmp / f"{name}.json"
    cmd = [PYTHON, str(ROOT / "bench" / "counted_harvest.py"), "harvest", "wilson",
           "--store", str(store), "--base-url", base_url, *SPEED]
    child = run_child(cmd, env={"HARVESTER_COUNT_OUT": str(out),
                                "HARVESTER_SPOOL_DIR": str(tmp / "spool-local"),
                                "HARVESTER_PROGRESS": "off"})
    if child.code != 0:
        raise RuntimeError(f"local harvest failed ({child.code}): {child.stderr[-2000:]}")
    return Counter({(op, kind): n for op, kind, n in json.loads(out.read_text())})


def s3_harvest(uri: str, base_url: str, tmp: Path, endpoint: str, *extra: str) -> None:
    cmd = [PYTHON, "-m", "harvester.cli", "harvest", "wilson", "--store", uri,
           "--base-url", base_url, *SPEED, *extra]
    child = run_child(cmd, env={**FAKE_AWS, "AWS_ENDPOINT_URL": endpoint,
                                "HARVESTER_SPOOL_DIR": str(tmp / "spool-s3"),
                                "HARVESTER_PROGRESS": "off"})
    if child.code != 0:
        raise RuntimeError(f"S3 harvest failed ({child.code}): {child.stderr[-2000:]}")


def side_by_side(title: str, local: Counts, s3: Counts, per: int | None) -> list[str]:
    lines = [title, f"  {'request':<11} {'kind':<22} {'local':>9} {'S3':>9}"]
    keys = sorted(set(local) | set(s3), key=lambda k: (-(s3.get(k, 0) + local.get(k, 0)), k))

    def cell(n: int) -> str:
        return f"{n / per:9.3f}" if per else f"{n:9d}"

    for op, kind in keys:
        lines.append(f"  {op:<11} {kind:<22} {cell(local.get((op, kind), 0))}"
                     f" {cell(s3.get((op, kind), 0))}")
    lines.append(f"  {'total':<34} {cell(sum(local.values()))} {cell(sum(s3.values()))}")
    return lines


# What each bookkeeping request is for, by kind (the first that matches); "listings" are the
# LIST requests of any kind.
PURPOSES = (
    ("journal parts", ("state/changes",)),
    ("checkpoints (seen markers, cursor)", ("state/seen-batch", "state/seen")),
    ("campaign and walk", ("state/backfill.json", "state/incremental.json")),
    ("run reports and feed", ("runs",)),
    ("WARC capture", ("raw", "state/payloads")),
    ("deletes (the journal's, merged batches', the index's)", ("batch",)),
    ("OAI-PMH index", ("index",)),
)


def bookkeeping(counts: Counts) -> Counts:
    """Every request but the record and file PUTs."""
    return Counter({key: n for key, n in counts.items()
                    if key not in (("PUT", "records"), ("PUT", "files"))})


def by_purpose(book: Counts) -> dict[str, int]:
    out: dict[str, int] = {}
    for (op, kind), n in book.items():
        name = "listings" if op == "LIST" else next(
            (p for p, kinds in PURPOSES if kind in kinds), "other")
        out[name] = out.get(name, 0) + n
    return dict(sorted(out.items(), key=lambda item: -item[1]))


def measure(n: int, s3: str) -> dict[str, Counts]:
    """The counts of one size: local and S3 backfills and idle runs (default settings: the
    OAI-PMH index on), and the same S3 runs with the index off."""
    counts: dict[str, Counts] = {}
    with serve_subprocess(size=n) as (base_url, _control), workdir("requests") as tmp, \
            s3_server(s3) as endpoint:
        counts["local-backfill"] = counted_local(tmp / "local", base_url, tmp, "backfill")
        counts["local-idle"] = counted_local(tmp / "local", base_url, tmp, "idle")
        for name, extra in (("indexed", ()), ("own", NO_INDEX)):
            bucket = f"bench-requests-{name}"
            create_bucket(endpoint, bucket)
            with CountingProxy(endpoint, bucket=bucket, prefix="h/") as proxy:
                s3_harvest(f"s3://{bucket}/h", base_url, tmp, proxy.url, *extra)
                counts[f"{name}-backfill"] = proxy.counts()
                proxy.reset()
                s3_harvest(f"s3://{bucket}/h", base_url, tmp, proxy.url, *extra)
                counts[f"{name}-idle"] = proxy.counts()
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, nargs="+", default=[500, 1500])
    parser.add_argument("--s3", choices=["ceph", "moto"], default="ceph")
    args = parser.parse_args(argv)
    server_name = {"ceph": "Ceph RGW", "moto": "moto server"}[args.s3]
    rows: list[dict[str, object]] = []
    books: dict[int, int] = {}
    for n in args.docs:
        counts = measure(n, args.s3)
        local_back, local_idle = counts["local-backfill"], counts["local-idle"]
        own_back, own_idle = counts["indexed-backfill"], counts["indexed-idle"]  # headline
        off_back, off_idle = counts["own-backfill"], counts["own-idle"]
        index_back = sum(own_back.values()) - sum(off_back.values())
        index_idle = sum(own_idle.values()) - sum(off_idle.values())
        print("\n".join(side_by_side(f"Backfill of {n} documents: store requests per document "
                                     f"(local: store calls; S3: HTTP requests to {server_name})",
                                     local_back, own_back, n)))
        print("\n".join(side_by_side("Idle incremental run: store requests",
                                     local_idle, own_idle, None)))
        book = bookkeeping(own_back)
        books[n] = sum(book.values())
        purposes = by_purpose(book)
        print(f"S3 bookkeeping of the backfill (all but the record and file PUTs): "
              f"{books[n]} requests, {books[n] / n:.3f}/doc: "
              + ", ".join(f"{name} {k} ({k / n:.3f})" for name, k in purposes.items()))
        off_book = sum(bookkeeping(off_back).values())
        print(f"With the OAI-PMH index off (extra information): bookkeeping {off_book} "
              f"({off_book / n:.3f}/doc), idle run {sum(off_idle.values())}; the index adds "
              f"{index_back} ({index_back / n:.3f}/doc) and {index_idle} on the idle run")
        files = own_back.get(("PUT", "files"), 0)
        records = own_back.get(("PUT", "records"), 0)
        total = sum(own_back.values())
        extra_files = max(0, files - n)  # a document's second and later files
        per_doc = (total - extra_files) / n
        rows.append(
            {"benchmark": f"S3 requests per stored document, backfill of {n} docs "
                          f"({server_name}, OAI-PMH index on: the default)",
             "measured": f"{total / n:.2f}/doc ({records} records, {files} files; "
                         f"{per_doc:.3f}/doc with one file a document)",
             "target": f"<= {PER_DOC_TARGET:g}", "ratio": round(per_doc / PER_DOC_TARGET, 3),
             "ok": per_doc <= PER_DOC_TARGET, "command": "python bench/s3_requests.py"})
        rows.append(
            {"benchmark": f"S3 bookkeeping requests (all but record and file PUTs), backfill "
                          f"of {n} docs ({server_name}, index on)",
             "measured": f"{books[n]} ({books[n] / n:.3f}/doc: "
                         + ", ".join(f"{name} {k}" for name, k in purposes.items()) + ")",
             "target": "-", "ratio": "", "ok": True, "command": "python bench/s3_requests.py"})
        if n == args.docs[0]:
            idle_lists = sum(v for (op, _), v in own_idle.items() if op == "LIST")
            idle_other = sum(own_idle.values()) - idle_lists
            rows.append(
                {"benchmark": f"S3 requests of an idle incremental run ({server_name}, "
                              f"index on)",
                 "measured": f"{idle_other} + {idle_lists} LIST (local: "
                             f"{sum(local_idle.values())} store calls)",
                 "target": f"<= {IDLE_TARGET} beside the LIST requests",
                 "ratio": round(idle_other / IDLE_TARGET, 2), "ok": idle_other <= IDLE_TARGET,
                 "command": "python bench/s3_requests.py"})
        rows.append(
            {"benchmark": f"S3 requests the OAI-PMH index adds (issue 16), backfill of {n} "
                          f"docs and idle run: index on minus index off",
             "measured": f"{index_back} ({index_back / n:.3f}/doc), idle run {index_idle} "
                         f"(index off: bookkeeping {off_book}, idle "
                         f"{sum(off_idle.values())})",
             "target": "backfill < 0.05/doc, idle 0",
             "ratio": round(index_back / n / 0.05, 3),
             "ok": index_back / n < 0.05 and index_idle <= 0,
             "command": "python bench/s3_requests.py"})
    if len(books) >= 2:
        small, large = min(books), max(books)
        slope = (books[large] - books[small]) / (large - small)
        fixed = books[small] - slope * small
        rows.append(
            {"benchmark": f"S3 bookkeeping split ({small} and {large} docs, {server_name})",
             "measured": f"~{fixed:.0f} a run + {slope:.3f}/doc",
             "target": "-", "ratio": "", "ok": True, "command": "python bench/s3_requests.py"})
    for row in rows:
        print(f"{row['benchmark']}: {row['measured']} (target {row['target']}) "
              f"{verdict(bool(row['ok']))}")
    write_result("s3_requests", rows)
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
