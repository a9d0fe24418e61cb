"""The changes journal's group commit (harvester/journal.py): every appended line is stored
before `append` returns, lines appended together share one part object, a failed part
fails each of its callers, and a withdrawn line stays out of the feed."""

from __future__ import annotations

import asyncio
import threading

import pytest

from harvester.exceptions import StoreError
from harvester.journal import ChangeJournal
from harvester.state import HarvestState
from pipelines.storage.local import LocalStore

RUN = "20260101T000000Z-abcdef"


class CountingStore(LocalStore):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.puts: list[str] = []
        self.fail = False
        self._lock = threading.Lock()

    def put(self, key, data, **kwargs):  # type: ignore[no-untyped-def]
        if self.fail:
            raise StoreError("store down")
        with self._lock:
            self.puts.append(key)
        return super().put(key, data, **kwargs)


def line(n: int) -> dict:
    return {"record_id": str(n), "change": "new", "content_sha256": "x" * 64}


def journal_of(state: HarvestState, **kwargs) -> ChangeJournal:  # type: ignore[no-untyped-def]
    async def write_part(lines):  # type: ignore[no-untyped-def]
        state.write_journal_part(RUN, lines)

    return ChangeJournal(write_part, **kwargs)


def test_concurrent_lines_share_parts_and_all_reach_the_feed(tmp_path):
    store = CountingStore(tmp_path / "store")
    state = HarvestState(store, "wilson")

    async def run() -> list[str]:
        journal = journal_of(state)
        return await asyncio.gather(*(journal.append(line(n)) for n in range(200)))

    ids = asyncio.run(run())
    assert len(set(ids)) == 200
    parts = [k for k in store.puts if "/changes/" in k]
    assert len(parts) == 1  # appended together: one object
    feed = list(state.iter_changes(RUN))
    assert sorted(int(x["record_id"]) for x in feed) == list(range(200))  # none lost or twice
    assert all("line_id" not in x for x in feed)


def test_a_full_part_is_written_without_waiting_for_the_linger(tmp_path):
    store = CountingStore(tmp_path / "store")
    state = HarvestState(store, "wilson")

    async def run() -> None:
        journal = journal_of(state, linger=60.0, max_lines=10)
        await asyncio.wait_for(asyncio.gather(*(journal.append(line(n)) for n in range(30))),
                               timeout=30)

    asyncio.run(run())
    assert len([k for k in store.puts if "/changes/" in k]) == 3
    assert len(list(state.iter_changes(RUN))) == 30


def test_an_appended_line_is_stored_when_append_returns(tmp_path):
    state = HarvestState(CountingStore(tmp_path / "store"), "wilson")

    async def run() -> None:
        await journal_of(state).append(line(7))
        # a fresh reader (another process, the next run) sees it at once
        fresh = HarvestState(LocalStore(tmp_path / "store"), "wilson")
        assert [x["record_id"] for x in fresh.iter_changes(RUN)] == ["7"]

    asyncio.run(run())


def test_a_failed_part_reaches_every_caller_and_the_journal_goes_on(tmp_path):
    store = CountingStore(tmp_path / "store")
    state = HarvestState(store, "wilson")

    async def run() -> None:
        journal = journal_of(state)
        store.fail = True
        results = await asyncio.gather(journal.append(line(1)), journal.append(line(2)),
                                       return_exceptions=True)
        assert all(isinstance(r, StoreError) for r in results)
        store.fail = False
        await journal.append(line(3))

    asyncio.run(run())
    assert [x["record_id"] for x in state.iter_changes(RUN)] == ["3"]


def test_a_line_is_stored_when_append_returns(tmp_path):
    store = CountingStore(tmp_path / "store")
    state = HarvestState(store, "wilson")
    state.put_change(RUN, "7", line(7))
    # a fresh reader (another process, the next run) sees it at once
    assert [x["record_id"] for x in HarvestState(LocalStore(tmp_path / "store"),
                                                  "wilson").iter_changes(RUN)] == ["7"]


def test_a_dropped_line_leaves_the_feed_and_only_that_line(tmp_path):
    state = HarvestState(LocalStore(tmp_path / "store"), "wilson")
    keep = state.put_change(RUN, "1", line(1))
    gone = state.put_change(RUN, "1", line(1) | {"content_sha256": "y" * 64})
    state.drop_change(RUN, gone)
    assert keep != gone
    assert [x["content_sha256"] for x in state.iter_changes(RUN)] == ["x" * 64]
    state.drop_changes(RUN)
    assert list(state.iter_changes(RUN)) == []


def test_a_line_put_on_its_own_fails_with_the_store(tmp_path):
    store = CountingStore(tmp_path / "store")
    state = HarvestState(store, "wilson")
    store.fail = True
    with pytest.raises(StoreError):
        state.put_change(RUN, "1", line(1))
    store.fail = False
    state.put_change(RUN, "2", line(2))  # the journal goes on after the failure
    assert [x["record_id"] for x in state.iter_changes(RUN)] == ["2"]


def test_lines_of_an_earlier_version_one_object_each_are_still_read(tmp_path):
    store = LocalStore(tmp_path / "store")
    store.put(f"state/wilson/changes/{RUN}/5.json", b'{"record_id": "5", "change": "new"}')
    state = HarvestState(store, "wilson")
    state.put_change(RUN, "6", line(6))
    assert sorted(x["record_id"] for x in state.iter_changes(RUN)) == ["5", "6"]


def test_a_long_linger_ends_as_soon_as_the_crawl_is_quiet(tmp_path) -> None:
    """With `quiet`, lines wait for more to share their part only while the crawl has work
    in flight: once it says nothing more is coming, the part is written (here the linger is
    an hour; the callers would otherwise wait for it)."""
    store = CountingStore(tmp_path / "store")
    state = HarvestState(store, "wilson")
    busy = {"left": 3}  # the crawl is busy for three probes, then quiet

    def quiet() -> bool:
        busy["left"] -= 1
        return busy["left"] < 0

    journal = journal_of(state, linger=3600.0, quiet=quiet, poll=0.01)

    async def run() -> tuple[bool, int]:
        first = asyncio.ensure_future(journal.append(line(1)))
        await asyncio.sleep(0)
        second = asyncio.ensure_future(journal.append(line(2)))
        await asyncio.wait_for(asyncio.gather(first, second), timeout=60)
        return first.done(), busy["left"]

    done, left = asyncio.run(run())
    assert done and left < 0
    parts = [k for k in store.puts if "/changes/" in k]
    assert len(parts) == 1  # both lines in one part
    assert sorted(line_["record_id"] for line_ in state.iter_changes(RUN)) == ["1", "2"]


def test_lines_keep_waiting_while_the_crawl_is_busy(tmp_path) -> None:
    store = CountingStore(tmp_path / "store")
    state = HarvestState(store, "wilson")
    journal = journal_of(state, linger=3600.0, quiet=lambda: False, poll=0.01)

    async def run() -> bool:
        pending = asyncio.ensure_future(journal.append(line(1)))
        await asyncio.sleep(0.3)  # thirty probes: all said busy
        waited = not pending.done()
        await journal.drain()  # the end of the run writes it
        await pending
        return waited

    assert asyncio.run(run())
    assert len([k for k in store.puts if "/changes/" in k]) == 1


def test_lines_that_arrive_while_a_part_is_written_wait_for_it_and_share_the_next(
        tmp_path) -> None:
    """The crawl's slot is full: a part in flight goes first (its records then leave the
    slot); the lines that came meanwhile go out together in the next part, not one each."""
    store = CountingStore(tmp_path / "store")
    state = HarvestState(store, "wilson")
    writing = asyncio.Event()
    release = asyncio.Event()

    async def write_part(lines):  # type: ignore[no-untyped-def]
        writing.set()
        await release.wait()
        state.write_journal_part(RUN, lines)

    async def run() -> None:
        journal = ChangeJournal(write_part, linger=3600.0, crowded=lambda: 1.0, poll=0.01)
        first = asyncio.ensure_future(journal.append(line(0)))
        await writing.wait()  # the first part is in flight
        later = []
        for n in range(1, 6):  # one line every few probes while it is written
            later.append(asyncio.ensure_future(journal.append(line(n))))
            await asyncio.sleep(0.05)
        release.set()
        await asyncio.wait_for(asyncio.gather(first, *later), timeout=60)

    asyncio.run(run())
    assert len([k for k in store.puts if "/changes/" in k]) == 2
    assert sorted(int(x["record_id"]) for x in state.iter_changes(RUN)) == list(range(6))


def test_a_half_full_slot_lets_lines_go_once_they_are_many(tmp_path) -> None:
    """Half full (records written a moment ago still in it, say): a few lines keep waiting
    for more; `crowd_lines` of them go out at once."""
    store = CountingStore(tmp_path / "store")
    state = HarvestState(store, "wilson")
    journal = journal_of(state, linger=3600.0, crowded=lambda: 0.6, crowd_lines=10,
                         poll=0.01)

    async def run() -> bool:
        few = [asyncio.ensure_future(journal.append(line(n))) for n in range(3)]
        await asyncio.sleep(0.2)  # twenty probes: half full, three lines
        waited = not any(f.done() for f in few)
        more = [asyncio.ensure_future(journal.append(line(n))) for n in range(3, 10)]
        await asyncio.wait_for(asyncio.gather(*few, *more), timeout=60)
        return waited

    assert asyncio.run(run())
    assert len([k for k in store.puts if "/changes/" in k]) == 1


def test_the_store_pipeline_reads_the_crawl_from_scrapys_engine() -> None:
    from types import SimpleNamespace

    from pipelines.store import crawl_crowded, crawl_quiet

    slot = SimpleNamespace(active_size=0, max_active_size=20_000_000)
    engine = SimpleNamespace(
        _slot=SimpleNamespace(scheduler=SimpleNamespace(has_pending_requests=lambda: True)),
        _start=None, downloader=SimpleNamespace(active={"a request"}),
        scraper=SimpleNamespace(slot=slot))
    crawler = SimpleNamespace(engine=engine)
    quiet, crowded = crawl_quiet(crawler), crawl_crowded(crawler)
    assert not quiet() and crowded() == 0.0  # busy, room in the slot: lines wait
    slot.active_size = 15_000_000
    assert crowded() == 0.75
    engine.downloader.active = set()
    engine._slot.scheduler.has_pending_requests = lambda: False
    assert quiet()  # nothing more on its way
    assert crawl_crowded(SimpleNamespace(engine=None))() == 0.0


def test_two_journals_of_one_run_never_share_a_line_id(tmp_path):
    """Two writers of one run (a worker and its replacement) journal into the same run: a
    line withdrawn by its id (drop_change) is that line only, not a line of the other's."""
    store = CountingStore(tmp_path / "store")
    state = HarvestState(store, "wilson")

    async def run() -> tuple[list[str], list[str]]:
        first, second = journal_of(state), journal_of(state)
        a = await asyncio.gather(*(first.append(line(n)) for n in range(50)))
        b = await asyncio.gather(*(second.append(line(100 + n)) for n in range(50)))
        return a, b

    a, b = asyncio.run(run())
    assert len(set(a) | set(b)) == 100
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in a + b)  # as long as drawn ids were
    state.drop_change(RUN, b[0])
    feed = {x["record_id"] for x in state.iter_changes(RUN)}
    assert feed == {str(n) for n in range(50)} | {str(100 + n) for n in range(1, 50)}
