"""RunMetrics: a finished run's report as Prometheus metrics, the way batch jobs publish them.

Once the final run report is written (the `report_written` signal of runreport.py), the
report's figures become gauges in a registry of their own, and go
- to a textfile for node_exporter's textfile collector (HARVESTER_METRICS_TEXTFILE, a path
  ending in .prom), written atomically (a temporary file renamed over it), and/or
- to a Pushgateway (HARVESTER_PUSHGATEWAY, its URL), grouped by job and site, with POST: the
  families of this push replace their earlier values, the others stay (so the time of the
  last successful run survives a failed one).

The time of the last successful run is carried over from the textfile (or kept by the
Pushgateway) when this run did not succeed. A textfile or push that fails is logged and
counted (metrics/textfile_failed, metrics/push_failed); it never changes the exit status.
"""

from __future__ import annotations

import calendar
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, pushadd_to_gateway, write_to_textfile
from prometheus_client.parser import text_string_to_metric_families
from scrapy.exceptions import NotConfigured

from harvester.config import setting, setting_float
from harvester.extensions.runreport import redact_uri, report_written

logger = logging.getLogger(__name__)

LAST_SUCCESS = "harvester_last_success_timestamp_seconds"
RECORD_OUTCOMES = ("new", "changed", "unchanged", "repaired", "restored", "withdrawn",
                   "failed", "quarantined")
REQUEST_KINDS = ("total", "listing", "document", "file", "robots", "retries", "challenges")


def iso_to_epoch(value: str | None) -> float | None:
    """Seconds since the epoch of the report's ISO 8601 UTC times (2026-12-01T22:53:35Z)."""
    if not value:
        return None
    text = value.rstrip("Z").split(".")[0]
    try:
        return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%S")))
    except ValueError:
        return None


def succeeded(report: dict[str, Any]) -> bool:
    return report.get("status") == "finished" and report.get("exit_code") == 0


def build_registry(report: dict[str, Any], last_success: float | None) -> CollectorRegistry:
    """The report's figures as gauges, labelled with the site (and mode where it helps)."""
    reg = CollectorRegistry()
    site = str(report.get("site", ""))
    counts = report.get("counts") or {}
    requests = report.get("requests") or {}

    def gauge(name: str, doc: str, labels: Iterable[str] = ()) -> Gauge:
        return Gauge(name, doc, ["site", *labels], registry=reg)

    gauge("harvester_run_info", "The last run: its id, mode, status and why it ended (value 1)",
          ["run_id", "mode", "status", "finish_reason"]).labels(
        site, str(report.get("run_id", "")), str(report.get("mode") or ""),
        str(report.get("status", "")), str(report.get("finish_reason", ""))).set(1)
    gauge("harvester_run_success", "1 when the last run finished with exit status 0").labels(
        site).set(1 if succeeded(report) else 0)
    gauge("harvester_run_exit_code", "Exit status of the last run (README: exit statuses)"
          ).labels(site).set(int(report.get("exit_code", 1)))
    started, finished = iso_to_epoch(report.get("started_at")), iso_to_epoch(report.get("finished_at"))
    if started is not None:
        gauge("harvester_run_start_timestamp_seconds", "When the last run started").labels(
            site).set(started)
    if finished is not None:
        gauge("harvester_run_end_timestamp_seconds", "When the last run ended").labels(
            site).set(finished)
        if started is not None:
            gauge("harvester_run_duration_seconds", "How long the last run took").labels(
                site).set(finished - started)
    if last_success is not None:
        gauge(LAST_SUCCESS, "When a run last finished with exit status 0").labels(
            site).set(last_success)
    records = gauge("harvester_run_records", "Records of the last run by outcome", ["outcome"])
    for outcome in RECORD_OUTCOMES:
        records.labels(site, outcome).set(int(counts.get(outcome, 0) or 0))
    files = gauge("harvester_run_files", "Files (PDFs, scans) of the last run by outcome",
                  ["outcome"])
    files.labels(site, "stored").set(int(counts.get("files_stored", 0) or 0))
    files.labels(site, "failed").set(int(counts.get("files_failed", 0) or 0))
    req = gauge("harvester_run_requests", "Requests of the last run by kind", ["kind"])
    for kind in REQUEST_KINDS:
        req.labels(site, kind).set(int(requests.get(kind, 0) or 0))
    gauge("harvester_run_response_bytes", "Bytes downloaded by the last run").labels(site).set(
        int(report.get("bytes", 0) or 0))
    coverage = report.get("coverage") or {}
    alerted = {str(a.get("field")) for a in report.get("coverage_alerts") or []}
    share = gauge("harvester_field_coverage_ratio",
                  "Share of the last run's records that have the field", ["field"])
    alert = gauge("harvester_field_coverage_alert",
                  "1 when the field's coverage fell sharply against earlier runs", ["field"])
    for name in sorted(set(coverage) | alerted):
        if name in coverage:
            share.labels(site, name).set(float(coverage[name]))
        alert.labels(site, name).set(1 if name in alerted else 0)
    gauge("harvester_coverage_alerts", "Fields whose coverage fell sharply in the last run"
          ).labels(site).set(len(alerted))
    spool = report.get("spool") or {}
    spooled = gauge("harvester_spool_objects",
                    "Objects the store refused during the last run: spooled, and still pending",
                    ["state"])
    spooled.labels(site, "spooled").set(int(spool.get("spooled", 0) or 0))
    spooled.labels(site, "pending").set(int(spool.get("pending", 0) or 0))
    return reg


def previous_last_success(path: Path, site: str) -> float | None:
    """The last-success time an earlier run wrote into the textfile, if any."""
    try:
        text = path.read_text("utf-8")
    except OSError:
        return None
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == LAST_SUCCESS and sample.labels.get("site") == site:
                    return float(sample.value)
    except ValueError:  # a file that is not in the text format: start afresh
        return None
    return None


class RunMetrics:
    def __init__(self, textfile: str = "", pushgateway: str = "",
                 job: str = "archive-harvester", timeout: float = 10.0,
                 stats: Any = None) -> None:
        if not textfile and not pushgateway:  # off unless asked for (no warning every run)
            raise NotConfigured
        self.textfile = Path(os.path.expanduser(textfile)) if textfile else None
        self.pushgateway = pushgateway
        self.job = job
        self.timeout = timeout
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> RunMetrics:
        s = crawler.settings
        ext = cls(textfile=setting(s, "HARVESTER_METRICS_TEXTFILE") or "",
                  pushgateway=setting(s, "HARVESTER_PUSHGATEWAY") or "",
                  job=setting(s, "HARVESTER_PUSHGATEWAY_JOB"),
                  timeout=setting_float(s, "HARVESTER_PUSHGATEWAY_TIMEOUT"),
                  stats=crawler.stats)
        crawler.signals.connect(ext.report_written, signal=report_written)
        return ext

    async def report_written(self, report: dict[str, Any], ctx: Any, **kwargs: Any) -> None:
        import asyncio

        await asyncio.get_running_loop().run_in_executor(None, self.publish, report)

    def publish(self, report: dict[str, Any]) -> None:
        """Write the textfile and/or push; failures are logged and counted."""
        site = str(report.get("site", ""))
        last = iso_to_epoch(report.get("finished_at")) if succeeded(report) else None
        if self.textfile is not None:
            carried = last if last is not None else previous_last_success(self.textfile, site)
            try:
                self.textfile.parent.mkdir(parents=True, exist_ok=True)
                write_to_textfile(str(self.textfile), build_registry(report, carried))
                self._count("metrics/textfile_written")
            except OSError as exc:
                logger.warning("could not write the metrics textfile %s: %s", self.textfile, exc)
                self._count("metrics/textfile_failed")
        if self.pushgateway:
            try:
                pushadd_to_gateway(self.pushgateway, job=self.job,
                                   registry=build_registry(report, last),
                                   grouping_key={"site": site}, timeout=self.timeout)
                self._count("metrics/pushed")
            except OSError as exc:  # URLError, HTTPError, timeouts
                logger.warning("could not push the metrics to %s: %s", redact_uri(self.pushgateway),
                               exc)
                self._count("metrics/push_failed")

    def _count(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)
