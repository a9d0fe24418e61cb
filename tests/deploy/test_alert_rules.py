"""deploy/prometheus/alerts.yml: well-formed rule groups whose expressions name only
metrics the run metrics extension writes (so a renamed metric cannot silence an alert)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from deploy_support import DEPLOY, yaml_documents
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from harvester.extensions.metrics import build_registry

REPORT = {
    "site": "wilson", "run_id": "20261201T000000Z-00000000", "mode": "incremental",
    "status": "finished", "finish_reason": "finished", "exit_code": 4,
    "started_at": "2026-12-01T00:00:00Z", "finished_at": "2026-12-01T00:01:00Z",
    "counts": {"new": 3}, "requests": {"total": 5}, "bytes": 10,
    "coverage": {"title": 1.0, "credits": 0.1},
    "coverage_alerts": [{"field": "credits", "coverage": 0.1, "previous": 0.9}],
    "spool": {"spooled": 2, "pending": 1},
}


def _written() -> dict[str, set[str]]:
    """Metric name -> its label names, as the extension writes them."""
    text = generate_latest(build_registry(REPORT, last_success=1.0)).decode()
    out: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, set()).update(sample.labels)
    return out


def test_alert_rules_name_only_written_metrics_and_labels() -> None:
    doc = yaml_documents(DEPLOY / "prometheus" / "alerts.yml")[0]
    rules = [rule for group in doc["groups"] for rule in group["rules"]]
    assert {r["alert"] for r in rules} >= {"HarvesterNoSuccessfulHarvest", "HarvesterCoverageAlert"}
    written = _written()
    for rule in rules:
        assert rule["expr"] and rule["labels"]["severity"] and rule["annotations"]["summary"]
        text = rule["expr"] + " ".join(rule["annotations"].values())
        for name in re.findall(r"\bharvester_\w+", text):
            assert name in written, (rule["alert"], name)
        for label in re.findall(r"\$labels\.(\w+)", text):
            names = re.findall(r"\bharvester_\w+", rule["expr"])
            assert all(label in written[n] for n in names), (rule["alert"], label)
    no_success = next(r for r in rules if r["alert"] == "HarvesterNoSuccessfulHarvest")
    assert "2 * 86400" in no_success["expr"]
    assert "harvester_last_success_timestamp_seconds" in no_success["expr"]
    coverage = next(r for r in rules if r["alert"] == "HarvesterCoverageAlert")
    assert written["harvester_field_coverage_alert"] >= {"site", "field"}
    assert "harvester_field_coverage_alert" in coverage["expr"]


def _promtool() -> str:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.skip("promtool is not installed (.ci/docker.sh takes it from Debian's prometheus)")
    return binary


def test_promtool_checks_the_rules_and_their_unit_tests_pass() -> None:
    promtool = _promtool()
    folder = DEPLOY / "prometheus"
    check = subprocess.run([promtool, "check", "rules", "alerts.yml"], cwd=folder,
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    # alerts_test.yml: no success for 2 days pages (not at 47 h), a coverage alert names
    # the field and its coverage
    tested = subprocess.run([promtool, "test", "rules", "alerts_test.yml"], cwd=folder,
                            capture_output=True, text=True, timeout=60)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_promtool_lints_the_metrics_clean() -> None:
    promtool = _promtool()
    text = generate_latest(build_registry(REPORT, last_success=1.0))
    lint = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                          timeout=60)
    assert lint.returncode == 0 and not lint.stdout.strip() and not lint.stderr.strip(), \
        (lint.stdout + lint.stderr).decode()
