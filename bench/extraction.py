"""Extraction benchmark: pages per second of our extractor against trafilatura.extract.

    python bench/extraction.py [--pages 300] [--dir DIR] [--rounds 3]

The pages are sample-archive document pages with the live site's chrome (tens of KB each),
written by `python -m harvester.sample dump` (or taken from --dir: pages/*.html and, when
present, expected/*.json). Each extractor runs as a whole process of its own
(`python bench/extraction.py --worker ours|trafilatura DIR`), which reads every page into
memory first, then times the extraction of all of them with perf_counter (the same method
for both) and prints pages/s. The sides alternate for --rounds rounds; each side's best
round counts (a shared machine only ever slows a run down).

Our worker also checks every field of every page against the ground truth
(expected/<record_id>.json; files compared by URL): a wrong field fails the benchmark.

Target: ours >= 5x trafilatura's pages/s, every field right.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, run_child, verdict, workdir, write_result  # noqa: E402

TARGET = 5.0
LIVE_BASE = "https://digitalarchive.wilsoncenter.org"


def _pages(folder: Path) -> list[tuple[str, bytes]]:
    return [(p.stem, p.read_bytes()) for p in sorted((folder / "pages").glob("*.html"))]


def worker(kind: str, folder: Path) -> int:
    pages = _pages(folder)
    if kind == "ours":
        from harvester.sites.wilson.page import parse_document

        def extract(rid: str, body: bytes) -> Any:
            return parse_document(body, f"{LIVE_BASE}/document/{rid}")
    else:
        import trafilatura

        def extract(rid: str, body: bytes) -> Any:
            return trafilatura.extract(body, url=f"{LIVE_BASE}/document/{rid}")

    extract(*pages[0])  # warm-up: lazy imports and caches on both sides
    started = time.perf_counter()
    results = [extract(rid, body) for rid, body in pages]
    seconds = time.perf_counter() - started
    wrong: list[str] = []
    if kind == "ours":
        wrong = check(folder, dict(zip([rid for rid, _ in pages], results, strict=True)))
    print(json.dumps({"pages": len(pages), "seconds": seconds, "wrong": wrong[:20],
                      "wrong_count": len(wrong)}))
    return 0


def check(folder: Path, results: dict[str, dict[str, Any]]) -> list[str]:
    """Fields that differ from the ground truth, as "record_id.field"."""
    wrong = []
    for path in sorted((folder / "expected").glob("*.json")):
        expected = json.loads(path.read_text("utf-8"))
        got = results.get(path.stem)
        if got is None:
            wrong.append(f"{path.stem}: not extracted")
            continue
        for name, value in expected.items():
            if name == "site":
                continue
            if name == "files":
                same = [f["url"] for f in got["files"]] == [f["url"] for f in value]
            else:
                same = got.get(name) == value
            if not same:
                wrong.append(f"{path.stem}.{name}")
    if not any((folder / "expected").glob("*.json")):
        wrong.append("no ground truth (expected/*.json)")
    return wrong


def run_worker(kind: str, folder: Path) -> dict[str, Any]:
    child = run_child([PYTHON, str(Path(__file__).resolve()), "--worker", kind, str(folder)])
    if child.code != 0:
        raise RuntimeError(f"{kind} worker failed: {child.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--dir", type=Path, default=None,
                        help="pages/*.html (+ expected/*.json) instead of a fresh dump")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", choices=["ours", "trafilatura"], default=None)
    parser.add_argument("folder", nargs="?", type=Path)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.folder)
    with workdir("extraction") as tmp:
        folder = args.dir
        if folder is None:
            folder = tmp / "dump"
            dump = run_child([PYTHON, "-m", "harvester.sample", "dump", "--size",
                              str(args.pages), "--out", str(folder)])
            if dump.code != 0:
                raise RuntimeError(dump.stderr)
        pages = _pages(folder)
        size_kb = sum(len(b) for _, b in pages) / len(pages) / 1024
        best: dict[str, float] = {}
        wrong: list[str] = []
        wrong_count = 0
        for r in range(args.rounds):
            for kind in ("trafilatura", "ours") if r % 2 else ("ours", "trafilatura"):
                result = run_worker(kind, folder)
                rate = result["pages"] / result["seconds"]
                best[kind] = max(best.get(kind, 0.0), rate)
                if kind == "ours":
                    wrong, wrong_count = result["wrong"], result["wrong_count"]
                print(f"  round {r + 1} {kind:<12} {rate:8.1f} pages/s", flush=True)
    ratio = best["ours"] / best["trafilatura"]
    ok = ratio >= TARGET and wrong_count == 0
    row = {
        "benchmark": f"Extraction, {len(pages)} sample pages (~{size_kb:.0f} KB) vs trafilatura",
        "measured": f"{best['ours']:.0f} vs {best['trafilatura']:.0f} pages/s, "
                    f"{wrong_count} wrong fields",
        "target": f">= {TARGET:g}x, 0 wrong", "ratio": round(ratio, 1), "ok": ok,
        "command": "python bench/extraction.py",
    }
    print(f"{row['benchmark']}: {row['measured']} -> ratio {ratio:.1f} (target {row['target']}) "
          f"{verdict(ok)}")
    if wrong:
        print("wrong fields:", ", ".join(wrong))
    write_result("extraction", [row])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
