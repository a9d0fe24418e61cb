import json

from harvester.extensions.progress import format_eta, progress_line
from harvester.keys import changes_key
from harvester.record import record_schema
from harvester.runs import Coverage, FeedSpill, compose_changes, coverage_alerts, feed_line
from harvester.state import HarvestState
from pipelines.storage.local import LocalStore


def _record(**over):
    base = {"title": "T", "date": "1950", "texts": [{"kind": "translation", "language": "English",
            "text": "x"}], "summary": "s", "authors": ["A"], "places": [], "files": []}
    base.update(over)
    return base


def test_coverage_counts_fields_with_values():
    cov = Coverage(record_schema("wilson").coverage_fields)
    cov.add(_record())
    cov.add(_record(summary=None, authors=[]))
    shares = cov.shares()
    assert shares["title"] == 1.0
    assert shares["summary"] == 0.5
    assert shares["authors"] == 0.5
    assert shares["places"] == 0.0


def test_sharp_drop_against_history_is_flagged():
    history = [{"coverage": {"summary": 0.9, "title": 1.0}, "counts": {"records": 100}}] * 3
    alerts = coverage_alerts({"summary": 0.05, "title": 1.0}, 50, history,
                             min_records=20, drop=0.5)
    assert alerts == [{"field": "summary", "coverage": 0.05, "previous": 0.9}]
    # a small run or no history: nothing flagged
    assert coverage_alerts({"summary": 0.0}, 5, history, min_records=20, drop=0.5) == []
    assert coverage_alerts({"summary": 0.0}, 50, [], min_records=20, drop=0.5) == []
    # a field that was rare before is not flagged
    rare = [{"coverage": {"credits": 0.1}, "counts": {"records": 100}}]
    assert coverage_alerts({"credits": 0.0}, 50, rare, min_records=20, drop=0.5) == []


def test_progress_line_shows_done_total_rate_eta_failures():
    line = progress_line(500, 2000, 100.0, 3, 1, "wilson backfill")
    assert "500/2,000 docs (25.0%)" in line
    assert "5.00/s" in line
    assert "ETA 05:00" in line
    assert "failed 3" in line and "quarantined 1" in line
    assert format_eta(None) == "--:--"
    assert format_eta(3725) == "1:02:05"


def test_redaction_masks_key_ids_secrets_and_signatures():
    from harvester.redact import redact

    text = ("Authorization: AWS4-HMAC-SHA256 Credential=AKIAFAKEKEY1234567890/20261126/us-east-1/s3, "
            "Signature=10d670e4e42bccdc5be03a238b39636a secret s3cr3t-FAKE-do-not-log")
    clean = redact(text, ("s3cr3t-FAKE-do-not-log",))
    assert "AKIAFAKEKEY1234567890" not in clean
    assert "10d670e4e42bccdc" not in clean
    assert "s3cr3t-FAKE" not in clean
    assert "Credential=***" in clean


def test_user_agent_names_the_project_and_the_contact_url(monkeypatch):
    from harvester.cli import build_parser
    from harvester.commands.harvest import build_settings

    monkeypatch.setenv("HARVESTER_CONTACT_URL", "https://example.org/contact")
    args = build_parser().parse_args(["harvest", "wilson"])
    ua = build_settings(args).get("USER_AGENT")
    assert ua.startswith("archive-harvester/") and "https://example.org/contact" in ua
    monkeypatch.delenv("HARVESTER_CONTACT_URL")
    args = build_parser().parse_args(["harvest", "wilson", "-s", "USER_AGENT=mine/1.0"])
    assert build_settings(args).get("USER_AGENT") == "mine/1.0"


def test_two_workers_recovering_one_killed_run_leave_its_whole_feed(tmp_path):
    # worker A composes the killed run's feed and deletes its journal while worker B, which
    # listed the journal a moment later, reads what is left: B must not replace A's feed
    import json

    from harvester.runs import compose_changes
    from harvester.state import HarvestState
    from pipelines.storage.local import LocalStore

    run = "20260101T000000Z-deadbeef"
    store = LocalStore(tmp_path / "store")
    state = HarvestState(store, "wilson")
    for part in range(10):
        state.write_journal_part(run, [{"record_id": f"{part}{n}", "change": "new",
                                        "line_id": f"{part}-{n}"} for n in range(3)])
    assert compose_changes(store, state, "wilson", run, replace=False) == 30  # A
    for key in list(store.list(f"state/wilson/changes/{run}/"))[:6]:  # A deleting...
        store.delete(key)
    assert compose_changes(store, state, "wilson", run, replace=False) == 12  # B: a part
    feed = store.get(f"runs/wilson/{run}.changes.jsonl")
    assert feed is not None
    assert len([json.loads(line) for line in feed.decode().splitlines()]) == 30


def test_feed_spill_writes_the_same_feed_as_lines_in_memory(tmp_path) -> None:
    """The run keeps its feed lines in a temporary file; the feed it writes is the one the
    in-memory path writes: every line, sorted by record id, equal ids in arrival order."""
    lines = [feed_line({"record_id": rid, "change": change, "title": title})
             for rid, change, title in [("300", "new", "Zhou Enlai à Genève"),
                                        ("1001", "new", "Письмо"), ("300", "changed", "b"),
                                        ("0042", "new", "金日成"), ("999", "new", "tab\there")]]
    in_memory = LocalStore(tmp_path / "a")
    spilled = LocalStore(tmp_path / "b")
    spill = FeedSpill()
    RUN = "20260101T000000Z-0000feed"  # noqa: N806
    for line in lines[:3]:
        spill.append(line)
    assert spill.body().count(b"\n") == 3  # reading it does not stop the appends
    for line in lines[3:]:
        spill.append(line)
    assert compose_changes(in_memory, HarvestState(in_memory, "wilson"), "wilson", RUN,
                           serialized=lines) == 5
    assert compose_changes(spilled, HarvestState(spilled, "wilson"), "wilson", RUN,
                           spill=spill) == 5
    spill.close()
    key = changes_key("wilson", RUN)
    feed = spilled.get(key)
    assert feed == in_memory.get(key)
    assert [json.loads(x)["record_id"] for x in feed.decode().splitlines()] == [
        "0042", "1001", "300", "300", "999"]
    assert [json.loads(x)["change"] for x in feed.decode().splitlines()][2:4] == ["new", "changed"]


def test_run_ids_of_one_second_sort_by_start() -> None:
    from datetime import UTC, datetime

    from harvester.context import new_run_id
    from harvester.keys import run_report_key

    second = datetime(2026, 12, 1, 20, 47, 18, tzinfo=UTC)
    ids = [new_run_id(second.replace(microsecond=ms * 1000)) for ms in (0, 9, 10, 255, 256, 999)]
    assert ids == sorted(ids) and len({i[:16] for i in ids}) == 1
    assert all(len(i.split("-")[1]) == 8 for i in ids)
    run_report_key("wilson", ids[-1])  # a valid run id for the store's keys


def test_coverage_is_compared_with_runs_that_ended_before_this_one_began() -> None:
    from harvester.extensions.runreport import earlier_finished

    reports = [
        {"run_id": "a", "status": "finished", "started_at": "2026-12-01T10:00:00Z",
         "finished_at": "2026-12-01T10:05:00Z"},
        {"run_id": "b", "status": "stopped", "started_at": "2026-12-01T11:00:00Z",
         "finished_at": "2026-12-01T11:01:00Z"},
        # another Redis worker of this run's crawl: started with it, finished first
        {"run_id": "c", "status": "finished", "started_at": "2026-12-01T12:00:00Z",
         "finished_at": "2026-12-01T12:03:00Z"},
        {"run_id": "d", "status": "finished", "started_at": "2026-12-01T12:00:01Z"},
    ]
    assert [r["run_id"] for r in earlier_finished(reports, "d", "2026-12-01T12:00:01Z")] == ["a"]
