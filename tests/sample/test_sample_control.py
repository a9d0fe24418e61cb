"""Switches and accounting through the /_sample/ control endpoints and SampleControl."""

from __future__ import annotations

import pytest
from conftest import fetch
from sample_reference import listing_links, parse

from harvester.sample import ControlError, SampleArchive, SampleControl, SampleServer


def test_stats_count_by_kind_and_path_without_control(server: SampleServer) -> None:
    control = server.control()
    doc = server.archive.document(0)
    fetch(server.base_url, "/search?page=0")
    fetch(server.base_url, doc.path)
    fetch(server.base_url, doc.path)
    fetch(server.base_url, f"/node/{doc.nid}")
    fetch(server.base_url, f"/document/{doc.record_id}")
    fetch(server.base_url, "/robots.txt")
    fetch(server.base_url, "/nope")
    if doc.has_download:
        fetch(server.base_url, doc.download_path)
    control.faults()
    stats = control.stats()
    expected_kinds = {"listing": 1, "document": 2, "node": 1, "redirect": 1, "robots": 1,
                      "other": 1}
    if doc.has_download:
        expected_kinds["download"] = 1
    assert stats["by_kind"] == expected_kinds
    assert stats["by_path"][doc.path] == 2 and stats["by_path"]["/search?page=0"] == 1
    assert stats["requests"] == sum(expected_kinds.values())
    assert stats["by_status"]["404"] == 1 and stats["by_status"]["301"] == 1
    assert stats["bytes"] > 100_000 and stats["faults"] == {}
    control.reset_stats()
    assert control.stats()["requests"] == 0


def test_publish_over_http_puts_new_documents_on_top(server: SampleServer) -> None:
    control = server.control()
    new = control.publish(3)
    assert len(new) == 3
    newest = "/search?page=0&sort_by=created&sort_order=DESC"
    links, _, count = listing_links(fetch(server.base_url, newest).body, "/")
    assert count == "Results: 1 - 10 of 63"
    top = [parse(fetch(server.base_url, link).body)["record_id"] for link in links[:3]]
    assert top == new[::-1]
    assert control.health()["size"] == 63


def test_edit_over_http_changes_page_and_ground_truth(server: SampleServer) -> None:
    control = server.control()
    rid = server.archive.record_ids()[5]
    doc_path = server.archive.document(5).path
    before = parse(fetch(server.base_url, doc_path).body)
    assert control.edit(rid) == 1
    after = parse(fetch(server.base_url, doc_path).body)
    assert after["summary"] != before["summary"]
    expected = control.expected(rid)
    lifecycle = {"date", "status", "withdrawn_at"}  # not on the page: the harvester's
    assert {k: v for k, v in expected.items() if k not in lifecycle} == after
    local = control.archive()  # a copy in this process follows the server
    assert local.expected_for(rid) == expected


def test_expected_with_files_on_the_sample_host(server: SampleServer) -> None:
    control = server.control()
    i = next(i for i in range(60) if server.archive.document(i).has_download)
    rid = server.archive.record_ids()[i]
    files = control.expected(rid, files_base=server.base_url)["files"]
    assert any(f["url"].startswith(server.base_url) for f in files)
    assert control.expected(rid)["files"][0]["url"].startswith(
        "https://digitalarchive.wilsoncenter.org/"
    )


def test_crawl_delay_and_faults_round_trip(server: SampleServer) -> None:
    control = server.control()
    control.set_crawl_delay(2)
    assert "Crawl-delay: 2" in fetch(server.base_url, "/robots.txt").body.decode()
    control.set_crawl_delay(None)
    assert "Crawl-delay" not in fetch(server.base_url, "/robots.txt").body.decode()
    config = control.set_faults({"503": {"rate": 0.5, "times": 2, "paths": "listing"}})
    assert config["503"]["rate"] == 0.5 and control.faults() == config
    control.clear_faults()
    assert control.faults() == {}
    assert control.state()["crawl_delay"] is None


def test_control_errors() -> None:
    with SampleServer(SampleArchive(3)) as srv:
        control = srv.control()
        with pytest.raises(ControlError, match="404"):
            control.expected("1")
        with pytest.raises(ControlError, match="404"):
            control.edit("nope")
        with pytest.raises(ControlError, match="400"):
            control.publish(-1)
        assert fetch(srv.base_url, "/_sample/publish").status == 405
        assert fetch(srv.base_url, "/_sample/what").status == 404
    with pytest.raises(ValueError):
        SampleControl("http://example.com:80")


def test_withdraw_restore_and_break_over_http(server: SampleServer) -> None:
    control = server.control()
    archive = server.archive
    doc = archive.document(archive.size - 1)  # the newest upload
    newest = "/search?page=0&sort_by=created&sort_order=DESC"
    assert doc.slug.encode() in fetch(server.base_url, newest).body
    control.withdraw(doc.record_id, status=410)
    assert fetch(server.base_url, doc.path).status == 410
    assert fetch(server.base_url, f"/node/{doc.nid}").status == 410
    assert doc.slug.encode() not in fetch(server.base_url, newest).body
    assert control.state()["withdrawn"] == {str(doc.record_id): 410}
    control.restore(doc.record_id)
    assert fetch(server.base_url, doc.path).status == 200
    assert doc.slug.encode() in fetch(server.base_url, newest).body
    control.withdraw(doc.record_id)  # 404 by default
    assert fetch(server.base_url, doc.path).status == 404

    other = archive.document(3)
    control.break_site(404, paths="document")
    assert fetch(server.base_url, other.path).status == 404
    assert fetch(server.base_url, newest).status == 200
    control.break_site(404, paths="all")
    assert fetch(server.base_url, newest).status == 404
    assert fetch(server.base_url, "/robots.txt").status == 200
    control.mend_site()
    assert fetch(server.base_url, other.path).status == 200
    assert fetch(server.base_url, newest).status == 200
    with pytest.raises(ControlError):
        control.withdraw(doc.record_id, status=500)
