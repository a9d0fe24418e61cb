"""SampleArchive: determinism, identities, slugs, listing order, switches."""

from __future__ import annotations

import re

import pytest

from harvester.sample import SampleArchive
from harvester.sample.render import document_page


def test_same_size_and_seed_give_identical_pages() -> None:
    a, b = SampleArchive(40, seed=3), SampleArchive(40, seed=3)
    for i in range(40):
        assert document_page(a.document(i)) == document_page(b.document(i))
        assert a.expected_record(i) == b.expected_record(i)


def test_a_document_does_not_depend_on_archive_size() -> None:
    small, large = SampleArchive(20), SampleArchive(2000)
    for i in range(20):
        assert document_page(small.document(i)) == document_page(large.document(i))
        assert small.slug(i) == large.slug(i)


def test_seed_changes_content() -> None:
    assert SampleArchive(5, seed=0).meta(1) != SampleArchive(5, seed=1).meta(1)


def test_identities_are_unique_and_in_range() -> None:
    archive = SampleArchive(3000)
    rids = [archive.meta(i).record_id for i in range(archive.size)]
    nids = [archive.meta(i).nid for i in range(archive.size)]
    assert len(set(rids)) == len(rids) and len(set(nids)) == len(nids)
    assert all(100_000 <= r < 400_000 for r in rids)
    assert all(archive.meta(i).nid != archive.meta(i).record_id for i in range(archive.size))
    assert rids == sorted(rids)  # newer uploads have higher Record IDs


def test_slugs_unique_clashes_suffixed_and_cut(archive60: SampleArchive) -> None:
    slugs = [archive60.slug(i) for i in range(archive60.size)]
    assert len(set(slugs)) == len(slugs)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", s) and len(s) <= 90 for s in slugs)
    assert "memorandum-conversation" in slugs and "memorandum-conversation-0" in slugs
    assert "memorandum-conversation-1" in slugs
    assert any(len(s) > 80 for s in slugs)  # long titles are cut near 90
    title = archive60.meta(slugs.index("memorandum-conversation-0")).title
    assert title == "Memorandum of Conversation"


def test_uploaded_dates_never_decrease_and_listing_is_newest_first(
    archive60: SampleArchive,
) -> None:
    uploads = [archive60.meta(i).uploaded for i in range(archive60.size)]
    assert uploads == sorted(uploads)
    order = [i for page in range(archive60.total_pages) for i in archive60.listing(page)]
    assert order == list(range(59, -1, -1))
    assert archive60.listing(0)[0] == 59 and archive60.listing(6) == []


def test_publish_adds_newest_documents_with_fresh_ids() -> None:
    archive = SampleArchive(30)
    before = set(archive.record_ids())
    new = archive.publish(3)
    assert len(new) == 3 and not before & set(new)
    top = [str(archive.meta(i).record_id) for i in archive.listing(0)[:3]]
    assert top == new[::-1]
    assert archive.size == 33
    # a published document is the same as that index in a bigger archive
    assert document_page(archive.document(31)) == document_page(SampleArchive(40).document(31))


def test_edit_changes_content_and_ground_truth() -> None:
    archive = SampleArchive(30)
    rid = archive.record_ids()[1]
    before = archive.expected_for(rid)
    page_before = document_page(archive.document(1))
    assert archive.edit(rid) == 1
    after = archive.expected_for(rid)
    assert after["summary"] != before["summary"] and after["texts"] != before["texts"]
    assert "edit 1" in after["summary"]
    assert document_page(archive.document(1)) != page_before
    assert archive.edit(int(rid)) == 2
    with pytest.raises(KeyError):
        archive.edit("999")


def test_state_round_trip() -> None:
    archive = SampleArchive(25, seed=2)
    archive.publish(2)
    archive.edit(archive.record_ids()[4])
    archive.edit(archive.record_ids()[6], replace_files=True)
    archive.edit(archive.record_ids()[6])
    copy = SampleArchive.from_state(archive.state())
    assert copy.record_ids() == archive.record_ids()
    assert list(copy.expected_records()) == list(archive.expected_records())
    assert [copy.file_revision(i) for i in range(copy.size)] == \
        [archive.file_revision(i) for i in range(archive.size)]
    assert archive.file_revision(6) == 1 and archive.version(6) == 2


def test_size_bounds() -> None:
    assert SampleArchive(0).listing(0) == []
    with pytest.raises(ValueError):
        SampleArchive(-1)


def test_listing_heads_agree_with_documents() -> None:
    archive = SampleArchive(60)
    archive.edit(archive.record_ids()[8])
    archive.edit(archive.record_ids()[7])
    for i in range(60):
        head, doc = archive.head(i), archive.document(i)
        assert (head.date_text, head.date_iso, head.summary, head.has_download) == (
            doc.date_text, doc.date_iso, doc.summary, doc.has_download
        )


def test_withdraw_takes_a_document_out_of_the_listing_and_restore_brings_it_back() -> None:
    archive = SampleArchive(30)
    rid = archive.record_ids()[29]  # the newest: first in the listing
    assert archive.listing(0)[0] == 29 and archive.listed_count == 30
    archive.withdraw(rid, status=410)
    assert 29 not in archive.listing_order() and archive.listing(0)[0] == 28
    assert archive.listed_count == 29 and archive.withdrawn() == {rid: 410}
    assert archive.page_status(29, "document") == archive.page_status(29, "node") == 410
    assert archive.page_status(28, "document") == 200
    assert archive.page_status(29, "download") == 200  # only its pages are gone
    copy = SampleArchive.from_state(archive.state())
    assert copy.withdrawn() == {rid: 410} and copy.listing_order() == archive.listing_order()
    archive.restore(rid)
    assert archive.listing(0)[0] == 29 and archive.page_status(29, "document") == 200
    with pytest.raises(ValueError):
        archive.withdraw(rid, status=500)
    with pytest.raises(KeyError):
        archive.withdraw("999")


def test_break_site_answers_the_status_on_every_page_of_its_kind() -> None:
    archive = SampleArchive(30)
    archive.break_site(404, paths="document")
    assert archive.page_status(3, "document") == archive.page_status(3, "node") == 404
    assert archive.page_status(None, "listing") == 200
    archive.break_site(503, paths="all")
    assert archive.page_status(None, "listing") == archive.page_status(3, "document") == 503
    assert SampleArchive.from_state(archive.state()).broken == (503, "all")
    archive.mend_site()
    assert archive.page_status(3, "document") == archive.page_status(None, "listing") == 200
    with pytest.raises(ValueError):
        archive.break_site(404, paths="some")
