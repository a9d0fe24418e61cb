"""Prometheus metrics of a run (harvester/extensions/metrics.py): a real harvest of the
sample archive writes node_exporter's textfile and pushes to a Pushgateway (a loopback
server recording what it is sent), with the values of the run's own report."""

from __future__ import annotations

import calendar
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from crawl_support import harvest, latest_report, local_reports
from prometheus_client.parser import text_string_to_metric_families


class Pushgateway:
    """Records each push (method, path, body) and answers as a Pushgateway does."""

    def __init__(self) -> None:
        self.pushes: list[tuple[str, str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _push(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.pushes.append((self.command, self.path, body.decode("utf-8")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT = _push

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def pushgateway() -> Iterator[Pushgateway]:
    gateway = Pushgateway()
    gateway.thread.start()
    try:
        yield gateway
    finally:
        gateway.server.shutdown()
        gateway.server.server_close()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(name, sorted labels) -> value, from the Prometheus text format."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(parsed: dict[Any, float], name: str, **labels: str) -> float:
    return parsed[(name, tuple(sorted({"site": "wilson", **labels}.items())))]


def epoch(iso: str) -> float:
    return float(calendar.timegm(time.strptime(iso.rstrip("Z"), "%Y-%m-%dT%H:%M:%S")))


def test_a_run_writes_its_report_as_metrics(tmp_path: Path, sample,
                                            pushgateway: Pushgateway) -> None:
    base_url, control = sample
    store, prom = tmp_path / "store", tmp_path / "textfiles" / "harvester.prom"
    args = ["-s", f"HARVESTER_METRICS_TEXTFILE={prom}", "-s", f"HARVESTER_PUSHGATEWAY={pushgateway.url}"]
    run = harvest(str(store), base_url, *args)
    assert run.code == 0, run.stderr[-3000:]
    report = latest_report(local_reports(store))
    got = samples(prom.read_text("utf-8"))
    assert not list(prom.parent.glob("*.tmp"))  # written to a temporary file, renamed

    assert value(got, "harvester_run_info", run_id=report["run_id"], mode="backfill",
                 status="finished", finish_reason="finished") == 1
    assert value(got, "harvester_run_success") == 1
    assert value(got, "harvester_run_exit_code") == 0
    for outcome in ("new", "changed", "unchanged", "withdrawn", "failed", "quarantined"):
        assert value(got, "harvester_run_records", outcome=outcome) == report["counts"][outcome]
    assert value(got, "harvester_run_records", outcome="new") == 36
    assert value(got, "harvester_run_files", outcome="stored") == report["counts"]["files_stored"] > 0
    for kind in ("total", "listing", "document", "file", "robots", "retries"):
        assert value(got, "harvester_run_requests", kind=kind) == report["requests"][kind]
    assert value(got, "harvester_run_requests", kind="document") == 36
    assert value(got, "harvester_run_response_bytes") == report["bytes"] > 0
    started, finished = epoch(report["started_at"]), epoch(report["finished_at"])
    assert value(got, "harvester_run_start_timestamp_seconds") == started
    assert value(got, "harvester_run_duration_seconds") == finished - started
    assert value(got, "harvester_last_success_timestamp_seconds") == finished
    assert report["coverage"]
    for field, share in report["coverage"].items():
        assert value(got, "harvester_field_coverage_ratio", field=field) == pytest.approx(share)
        assert value(got, "harvester_field_coverage_alert", field=field) == 0
    assert value(got, "harvester_coverage_alerts") == 0
    assert value(got, "harvester_spool_objects", state="spooled") == report["spool"]["spooled"] == 0

    # the same metrics were pushed, with POST (families not pushed stay in the gateway)
    assert [(m, p) for m, p, _ in pushgateway.pushes] == \
        [("POST", "/metrics/job/archive-harvester/site/wilson")]
    assert samples(pushgateway.pushes[0][2]) == got

    # a run that stops (persistent bot challenges, exit 5): its outcome, and the last
    # success still the first run's
    control.set_faults({"challenge": {"always": True, "paths": "document|listing"}})
    control.publish(3)
    stopped = harvest(str(store), base_url, *args, "-s", "HARVESTER_CHALLENGE_LIMIT=4")
    assert stopped.code == 5, stopped.stderr[-3000:]
    second = latest_report(local_reports(store))
    got = samples(prom.read_text("utf-8"))
    assert value(got, "harvester_run_info", run_id=second["run_id"], mode="incremental",
                 status="stopped", finish_reason=second["finish_reason"]) == 1
    assert value(got, "harvester_run_success") == 0
    assert value(got, "harvester_run_exit_code") == 5
    assert value(got, "harvester_run_records", outcome="new") == 0
    assert value(got, "harvester_run_requests", kind="challenges") == second["requests"]["challenges"] > 0
    assert value(got, "harvester_last_success_timestamp_seconds") == finished
    assert len(pushgateway.pushes) == 2
    pushed = samples(pushgateway.pushes[1][2])
    assert not any(name == "harvester_last_success_timestamp_seconds" for name, _ in pushed)
    assert value(pushed, "harvester_run_exit_code") == 5


def test_an_unreachable_pushgateway_changes_nothing(tmp_path: Path, sample) -> None:
    base_url, _control = sample
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]  # a port nothing listens on once closed
    store = tmp_path / "store"
    run = harvest(str(store), base_url, "-s", f"HARVESTER_PUSHGATEWAY=http://127.0.0.1:{port}",
                  "-s", "HARVESTER_PUSHGATEWAY_TIMEOUT=2", "--limit", "5")
    assert run.code == 0, run.stderr[-3000:]
    assert "could not push the metrics" in run.stderr
    assert latest_report(local_reports(store))["status"] == "finished"
