"""`harvester extract` through the real console script."""

from __future__ import annotations

import functools
import gzip
import http.server
import json
import subprocess
import threading
from pathlib import Path

import pytest

HARVESTER = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "harvester")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "wilson"
SEED = FIXTURES / "seed-feng-xi-telegram" / "input.html"
FULL = FIXTURES / "full-all-fields" / "input.html"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HARVESTER, "extract", *args], capture_output=True, text=True, encoding="utf-8",
        timeout=60, check=False,
    )


def lines(result: subprocess.CompletedProcess[str]) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_one_json_line_per_input_in_order_and_canonical_url():
    result = run(str(SEED), str(FULL))
    assert result.returncode == 0, result.stderr
    seed, full = lines(result)
    expected = json.loads((FIXTURES / "seed-feng-xi-telegram" / "output.json").read_text("utf-8"))
    assert {k: v for k, v in seed.items() if k != "harvested_at"} == expected
    assert full["record_id"] == "117029"
    assert full["url"].startswith("https://digitalarchive.wilsoncenter.org/document/")
    assert len(seed["harvested_at"]) == 20 and seed["harvested_at"].endswith("Z")


def test_url_option_sets_the_record_url_of_a_single_file():
    result = run("--url", "http://127.0.0.1:9/node/88123", str(FULL))
    assert result.returncode == 0, result.stderr
    (record,) = lines(result)
    assert record["url"] == "http://127.0.0.1:9/node/88123"
    assert record["files"][0]["url"] == "http://127.0.0.1:9/document/88123/download"


def test_without_canonical_link_the_url_is_the_file_uri(tmp_path):
    page = tmp_path / "page.html"
    page.write_bytes(SEED.read_bytes().replace(b'rel="canonical"', b'rel="alternate"'))
    (record,) = lines(run(str(page)))
    assert record["url"] == page.resolve().as_uri()


def test_non_ascii_output_is_raw_utf8():
    result = run(str(FIXTURES / "chinese-month-date" / "input.html"))
    assert "张闻天同志" in result.stdout


def test_bad_inputs_give_error_lines_and_exit_1_after_the_rest(tmp_path):
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 40)
    gz = tmp_path / "page.html.gz"
    gz.write_bytes(gzip.compress(SEED.read_bytes()))
    inputs = [str(tmp_path / "missing.html"), str(tmp_path), str(empty), str(binary), str(gz),
              str(FIXTURES / "challenge-page" / "input.html"),
              str(FIXTURES / "listing-page" / "input.html"),
              str(FIXTURES / "error-page" / "input.html"), str(SEED)]
    result = run(*inputs)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    out = lines(result)
    assert [o.get("input") for o in out[:-1]] == inputs[:-1]
    assert all(set(o) == {"error", "input"} and o["error"] for o in out[:-1])
    assert "challenge" in out[5]["error"]
    assert "listing" in out[6]["error"]
    assert out[-1]["record_id"] == "114921"


def test_url_with_several_files_and_unknown_site_are_usage_errors():
    result = run("--url", "https://x/y", str(SEED), str(FULL))
    assert result.returncode == 2 and result.stdout == "" and "--url" in result.stderr
    result = run("--site", "nope", str(SEED))
    assert result.returncode == 2 and result.stdout == "" and "unknown site" in result.stderr


@pytest.fixture
def loopback_server():
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(FIXTURES))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_fetches_urls_from_a_loopback_server(loopback_server):
    result = run(f"{loopback_server}/cyrillic-windows-1251/input.html",
                 f"{loopback_server}/nothing-here.html")
    assert result.returncode == 1
    record, error = lines(result)
    assert record["title"] == "Шифротелеграмма Штыкова Сталину"
    assert error["input"].endswith("/nothing-here.html") and "404" in error["error"]
