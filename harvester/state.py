"""The harvester's own state, kept in the store under state/<site>/ (not on a local disk).

- seen/<digest>.json      one marker per document URL harvested: record id, content hash,
                          the backfill campaign that last stored or confirmed it (local
                          stores, and stores written by earlier versions)
- seen-batch/<name>.json  the same markers, many to an object (remote stores: S3), read
                          once per run and written a page at a time (harvester.seenindex)
- failed/<digest>.json    document URLs that failed after retries: retried by the next run
- backfill.json           the current backfill campaign: id, status, listing cursor (on a
                          remote store the cursor travels in the seen batches instead: see
                          "Checkpoints" below)
- changes/<run_id>/part-<id>.json   lines of the run's changes feed, each written before
                          its record (group commit: lines that arrive together share one
                          object), so a killed run's feed can be rebuilt by the next run;
                          drop-<line id>.json withdraws one line (a lost create-only race)

Markers are keyed by the URL's path and query, not its host, so a mirror and the
live site share them. Both marker layouts are always read (a batched marker wins over a
per-URL one when the state batches, the other way round when it does not); `batch_seen`
chooses the one written. Every write is one small object or one batch: safe with many
workers.

Checkpoints (a remote store whose markers are batched: `checkpoint_seconds` given). A
backfill's resume cursor moves each time the documents of a listing step are all done;
saving it in backfill.json each time would cost a PUT beside the markers' batch. Instead
a move that changes only the cursor hands it to the seen index, whose next object carries
both the markers and the cursor they allow (one PUT, and the cursor is never in the store
without its documents' markers), written at most once per `checkpoint_seconds` (at the
latest that long after the move) and at the run's end. `load_backfill` reads the cursor
back from the newest batch that carries one for the running campaign (no such batch:
backfill.json's). backfill.json itself is written when the campaign begins, when anything
but its cursor changes, and when it completes. A run killed between two checkpoints loses
at most the markers and the cursor of the documents since the last one: they are fetched
again and found unchanged. On a local store every cursor save is written at once.

The changes journal of this state's own run is deleted by the keys it wrote (no listing).

The state's listing (remote stores, `batch_seen`). Each folder read at a run's start would
cost a listing request of its own (the journals of killed runs, failed/, seen-batch/,
missing/, the WARC capture's payloads/, whether per-URL markers exist). Instead the state
lists state/<site>/ once, the first time one of them is wanted, and answers them all from
it: S3 lists keys in byte order, and every one of those folders sorts before seen/
("seen-batch/" < "seen/"), so the listing stops at the first per-URL marker, which says
enough about seen/ (that it is not empty). It is the store as the run began: what the run
writes itself it knows (its journal keys, its seen batches: the seen index lists again once
it wrote), and what other processes write meanwhile is what a listing made a moment
earlier would have missed too (a killed run's journal is complete; a missing mark is
written by a campaign's end, read by the same end; a payload index only saves a capture).
A local store (listings cost no request) lists each folder itself.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from harvester.exceptions import StoreError
from harvester.keys import runs_prefix, state_key, state_prefix, url_digest
from harvester.seenindex import SeenIndex
from pipelines.storage import Store
from pipelines.storage.base import delete_all

logger = logging.getLogger(__name__)

JSON = "application/json"
OBJECT_REUSE_SECONDS = 2.0  # a walk's state read or written this recently is not read again
LISTING_TRUST_SECONDS = 10.0  # the run's plan takes an object its state's listing lacks
# this recently for absent
BACKFILL, WALK = "backfill.json", "incremental.json"
COPY_FIELD = "backfill_copy"  # in incremental.json: {"md5", "value"} of backfill.json
_CURSOR_FIELDS = ("resume", "cursor")  # a campaign's cursor ("cursor": earlier versions)


def url_identity(url: str) -> str:
    """The host-independent identity of a URL: its path and query."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True).encode("utf-8")


def load_json(data: bytes | None) -> Any:
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


class HarvestState:
    """`batch_seen`: write seen markers in batch objects (remote stores) instead of one
    object per URL (local stores, the default here); `run_id` names the batches.
    `checkpoint_seconds` (with `batch_seen`, remote stores): a backfill's cursor travels in
    the seen batches, written at most once per that many seconds (None: every cursor save
    is written to backfill.json at once)."""

    def __init__(self, store: Store, site: str, *, batch_seen: bool = False,
                 run_id: str = "", checkpoint_seconds: float | None = None) -> None:
        self.store = store
        self.site = site
        self.batch_seen = batch_seen
        self.run_id = run_id
        self.seen_index = SeenIndex(store, site, run_id=run_id)
        self.checkpoint_seconds = checkpoint_seconds if batch_seen else None
        self.seen_index.rolling = self.checkpoint_seconds is not None  # a PUT, not a file
        self._per_url: bool | None = None  # per-URL marker objects exist (None: not known)
        self._journaled: set[str] = set()  # runs this state wrote journal parts for
        self._journal_keys: list[str] = []  # the objects of this state's own run's journal
        self._objects: dict[str, tuple[float, dict[str, Any] | None]] = {}  # name -> (when, value)
        self._stored: dict[str, dict[str, Any] | None] = {}  # name -> as last read or written
        self._last_checkpoint = time.monotonic()
        self._checkpoint_timer: threading.Timer | None = None
        # runs/<site>/ as the run's recovery listed it at its start (harvester.runs)
        self.runs_listed: list[str] | None = None
        # called (blocking) before the first journal write of a run: the run report's hook
        self.before_journal: Callable[[], None] | None = None
        # the state's listing (remote stores): keys before seen/, whether seen/ has any
        self._listing: tuple[list[str], bool] | None = None
        self._listing_lock = threading.Lock()
        self._listed_at = 0.0
        self._runs_keys: list[str] | None = None  # runs/<site>/, read in the same listing
        self._written: set[str] = set()  # the walk objects this state wrote
        self._meta: dict[str, tuple[str, str]] = {}  # key -> (ETag, LastModified), listed
        self._md5: dict[str, str | None] = {}  # walk object -> MD5 of its bytes, read/written
        self._copy: tuple[str, dict[str, Any]] | None = None  # the walk's campaign copy
        # the campaign begun by this run in a store holding no record of the site (runplan)
        self.began_on_empty: str | None = None
        self._lock = threading.Lock()
        self.seen_index.listed = self._seen_batch_listed

    # --- the state's listing (remote stores) ----------------------------------------------
    def _state_listing(self) -> tuple[list[str], bool] | None:
        """Blocking, once: the keys of state/<site>/ that sort before seen/, and whether
        seen/ holds any key (see the module's docstring); None on a local store. A store
        that lists from a key (S3) reads runs/<site>/ in the same listing (`runs_keys`)."""
        if not self.batch_seen:
            return None
        with self._listing_lock:
            if self._listing is None:
                self._listing = self._list_state()
                self._listed_at = time.monotonic()
            return self._listing

    def _list_state(self) -> tuple[list[str], bool]:
        top, seen = state_prefix(self.site), state_prefix(self.site, "seen")
        runs = runs_prefix(self.site)
        keys: list[str] = []
        per_url = False
        lister = getattr(self.store, "list_after", None)
        # runs/<site>/ then state/<site>/ in one listing: nothing sorts between them but
        # other sites' runs and state ("runs/<site>." sorts just before "runs/<site>/": a
        # site name has no "."); met one, the state is listed on its own
        listed = lister("", runs[:-1] + ".", self._meta) if lister is not None else None
        alone = listed is None
        if listed is not None:
            found: list[str] = []
            for key in listed:
                if key.startswith(runs):
                    found.append(key)
                    continue
                if not key.startswith(top):
                    alone = key < top  # another site's: list the state apart
                    break
                if key.startswith(seen):
                    per_url = True
                    break
                if key > seen:
                    break
                keys.append(key)
            self._runs_keys = found
        if alone:
            keys, per_url = [], False
            for key in self.store.list(top):
                if key.startswith(seen):
                    per_url = True
                    break
                if key > seen:  # past seen/: nothing wanted from here on
                    break
                keys.append(key)
        return keys, per_url

    def runs_keys(self) -> list[str] | None:
        """Blocking: the keys of runs/<site>/ as the state's listing read them with the
        state's (S3); None when it did not (then list runs/<site>/)."""
        if self._state_listing() is None:
            return None
        return self._runs_keys

    def listed_absent(self, name: str) -> bool:
        """Blocking: whether the state's listing, made less than LISTING_TRUST_SECONDS ago,
        shows no object state/<site>/<name> and this state wrote none since (then it need
        not be read: the run's plan reads its campaign and walk right after the listing)."""
        if self._state_listing() is None:
            return False
        with self._lock:
            if name in self._written:
                return False
        if time.monotonic() - self._listed_at > LISTING_TRUST_SECONDS:
            return False
        assert self._listing is not None
        return state_key(self.site, name) not in self._listing[0]

    def listed(self, prefix: str) -> list[str] | None:
        """Blocking: the keys under `prefix` (a folder of state/<site>/ that sorts before
        seen/) as the state's listing saw them; None when there is no such listing (a local
        store) or it cannot answer for `prefix` (then list the folder)."""
        seen = state_prefix(self.site, "seen")
        if not prefix.startswith(state_prefix(self.site)) or prefix >= seen \
                or seen.startswith(prefix):
            return None
        listing = self._state_listing()
        if listing is None:
            return None
        return [k for k in listing[0] if k.startswith(prefix)]

    def _list(self, prefix: str) -> list[str]:
        found = self.listed(prefix)
        return found if found is not None else list(self.store.list(prefix))

    def _seen_batch_listed(self) -> list[str] | None:
        from harvester.seenindex import FOLDER

        return self.listed(state_prefix(self.site, FOLDER))

    # --- seen markers -------------------------------------------------------------------
    def _seen_key(self, url: str) -> str:
        return state_key(self.site, "seen", url_digest(url_identity(url)) + ".json")

    def _has_per_url_markers(self) -> bool:
        """Blocking, once: whether per-URL marker objects may exist (one listing request,
        unless the seen index recorded the answer when it was compacted)."""
        with self._lock:
            known = self._per_url
        if known is None:
            listing = self._state_listing()
            said = listing[1] if listing is not None else None
            if said is None and self.batch_seen:
                said = self.seen_index.per_url_markers()
            if said is None:
                said = next(iter(self.store.list(state_prefix(self.site, "seen"))),
                            None) is not None
            with self._lock:
                self._per_url = known = said
            self.seen_index.per_url_note = said  # the batches this run writes say so
        return known

    def _get_per_url(self, url: str) -> dict[str, Any] | None:
        value = load_json(self.store.get(self._seen_key(url)))
        return value if isinstance(value, dict) else None

    def get_seen(self, url: str) -> dict[str, Any] | None:
        """The URL's marker; None when there is none or the store cannot be read now
        (the document is then fetched, and deduplication decides at write time)."""
        digest = url_digest(url_identity(url))
        try:
            if self.batch_seen:
                found = self.seen_index.get(digest)
                if found is None and self._has_per_url_markers():
                    found = self._get_per_url(url)
                return found
            return self._get_per_url(url) or self.seen_index.get(digest)
        except StoreError:
            return None

    def mark_seen(self, url: str, record_id: str, content_sha256: str,
                  campaign: str | None, walk: str | None = None) -> None:
        marker = {
            "url": url_identity(url),
            "record_id": record_id,
            "content_sha256": content_sha256,
            "campaign": campaign,
        }
        if walk:
            marker["walk"] = walk  # the incremental walk that stored it
        if self.batch_seen:  # in the store by the next flush (a cursor save, the run's end)
            self.seen_index.add(url_digest(url_identity(url)), marker)
            return
        self.store.put(self._seen_key(url), _dump(marker), content_type=JSON)

    def iter_markers(self) -> Iterator[dict[str, Any]]:
        """Blocking: every seen marker of the site, whatever its layout (one per URL)."""
        batched = self.seen_index.digests()
        yield from self.seen_index.markers()
        if self.batch_seen and not self._has_per_url_markers():
            return
        prefix = state_prefix(self.site, "seen")
        keys = [k for k in self.store.list(prefix)
                if k[len(prefix):-len(".json")] not in batched]
        # small objects: in parallel, or a remote store spends minutes on round trips
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="seen") as pool:
            for value in pool.map(lambda k: load_json(self.store.get(k)), keys):
                if isinstance(value, dict):
                    yield value

    def flush_seen(self) -> None:
        """Blocking: the markers made so far (and a checkpoint's cursor) are in the store
        (batched markers only wait)."""
        self._cancel_checkpoint()
        self.seen_index.flush()

    def close_seen(self) -> None:
        """Blocking, at the end of a run: flush the markers, and merge the batch objects
        when they have become many (so the next run reads one or two)."""
        self._cancel_checkpoint()
        if not self.batch_seen:
            self.seen_index.flush()
            return
        self.seen_index.compact(per_url=self._has_per_url_markers())

    # --- checkpoints: a backfill's cursor with the markers (remote stores) -----------------
    def _checkpoint(self) -> None:
        """Blocking when due: the seen index's next object (markers and cursor) is written
        now if the last checkpoint is `checkpoint_seconds` old, else at that moment."""
        with self._lock:
            now = time.monotonic()
            wait = self._last_checkpoint + (self.checkpoint_seconds or 0.0) - now
            if wait > 0:
                if self._checkpoint_timer is None:
                    later = threading.Timer(wait, self._checkpoint_due)
                    later.daemon = True
                    self._checkpoint_timer = later
                    later.start()
                return
            self._last_checkpoint = now
            timer, self._checkpoint_timer = self._checkpoint_timer, None
        if timer is not None:
            timer.cancel()
        self.seen_index.flush()

    def _checkpoint_due(self) -> None:
        with self._lock:
            self._checkpoint_timer = None
            self._last_checkpoint = time.monotonic()
        try:
            self.seen_index.flush()
        except StoreError as exc:  # kept: written by the next checkpoint or the run's end
            logger.warning("could not write a checkpoint (seen markers, cursor): %s", exc)

    def _cancel_checkpoint(self) -> None:
        with self._lock:
            timer, self._checkpoint_timer = self._checkpoint_timer, None
            self._last_checkpoint = time.monotonic()
        if timer is not None:
            timer.cancel()

    # --- failed documents ---------------------------------------------------------------
    def _failed_key(self, url: str) -> str:
        return state_key(self.site, "failed", url_digest(url_identity(url)) + ".json")

    def mark_failed(self, url: str, reason: str, run_id: str) -> None:
        body = {"url": url_identity(url), "reason": reason[:500], "run_id": run_id}
        self.store.put(self._failed_key(url), _dump(body), content_type=JSON)

    def clear_failed(self, url: str) -> None:
        with contextlib.suppress(StoreError):  # a stale entry only costs a refetch
            self.store.delete(self._failed_key(url))

    def iter_failed(self) -> Iterator[dict[str, Any]]:
        for key in self._list(state_prefix(self.site, "failed")):
            value = load_json(self.store.get(key))
            if isinstance(value, dict) and isinstance(value.get("url"), str):
                yield value

    # --- run-spanning walks: the backfill campaign, the incremental walk ------------------
    def _load_object(self, name: str, planning: bool = False) -> dict[str, Any] | None:
        """The object; one this state read or wrote less than OBJECT_REUSE_SECONDS ago is
        not read again (a run's start reads the campaign twice in a row). `planning`: the
        run's plan (harvester.runplan: the one process that decides it), which takes an
        object the state's listing of a moment ago does not show for absent, and the
        campaign from the walk object's copy of it when the listing's ETag of backfill.json
        is the copy's MD5 (not read: see `_campaign_copy`)."""
        with self._lock:
            held = self._objects.get(name)
        if held is not None and time.monotonic() - held[0] < OBJECT_REUSE_SECONDS:
            return copy.deepcopy(held[1])
        digest = None
        copied = self._campaign_copy() if planning and name == BACKFILL else None
        if planning and self.listed_absent(name):
            value = None
        elif copied is not None:
            digest, value = copied
        else:
            data = self.store.get(state_key(self.site, name))
            digest = _md5(data) if data is not None else None
            value = load_json(data)
        value = value if isinstance(value, dict) else None
        if name == WALK and value is not None:
            held_copy = value.pop(COPY_FIELD, None)
            if isinstance(held_copy, dict) and isinstance(held_copy.get("md5"), str) \
                    and isinstance(held_copy.get("value"), dict):
                with self._lock:
                    self._copy = (held_copy["md5"], held_copy["value"])
        with self._lock:
            self._objects[name] = (time.monotonic(), copy.deepcopy(value))
            self._stored[name] = copy.deepcopy(value)
            self._md5[name] = digest
        return value

    def _campaign_copy(self) -> tuple[str, dict[str, Any]] | None:
        """(MD5, campaign) from the walk object's copy of backfill.json, when the state's
        listing (fresh: `listed_absent`'s terms) lists backfill.json with that MD5 for ETag
        (S3's ETag of an object written by one PUT, unencrypted or SSE-S3; any other ETag
        never matches, and the campaign is read) and the walk object is no older than it
        (else the walk's copy cannot be the newest: not read for it)."""
        listing = self._state_listing()
        if listing is None or time.monotonic() - self._listed_at > LISTING_TRUST_SECONDS:
            return None
        campaign_key, walk_key = state_key(self.site, BACKFILL), state_key(self.site, WALK)
        with self._lock:
            if BACKFILL in self._written:
                return None
            listed, walk_listed = self._meta.get(campaign_key), self._meta.get(walk_key)
        if listed is None or walk_listed is None or walk_listed[1] < listed[1]:
            return None
        self._load_object(WALK, planning=True)
        with self._lock:
            held = self._copy
        if held is None or held[0] != listed[0]:
            return None
        return held[0], copy.deepcopy(held[1])

    def _save_object(self, name: str, value: dict[str, Any]) -> None:
        # a walk's cursor never passes documents whose markers are not in the store yet
        self._cancel_checkpoint()
        self.seen_index.flush()
        with self._lock:
            self._objects.pop(name, None)
            self._stored.pop(name, None)
            self._written.add(name)
            campaign, campaign_md5 = self._stored.get(BACKFILL), self._md5.get(BACKFILL)
        body = value
        if name == WALK and self.batch_seen and campaign is not None \
                and campaign_md5 is not None:
            # the campaign as this state last read or wrote it, for the next run's plan
            body = dict(value, **{COPY_FIELD: {"md5": campaign_md5, "value": campaign}})
        data = _dump(body)
        self.store.put(state_key(self.site, name), data, content_type=JSON)
        with self._lock:
            self._objects[name] = (time.monotonic(), copy.deepcopy(value))
            self._stored[name] = copy.deepcopy(value)
            self._md5[name] = _md5(data)

    def load_backfill(self, planning: bool = False) -> dict[str, Any] | None:
        """The campaign; a running one's cursor from the newest seen batch that carries one
        (checkpoints), else backfill.json's. `planning`: see `_load_object`."""
        campaign = self._load_object("backfill.json", planning)
        if self.checkpoint_seconds is not None and campaign is not None \
                and campaign.get("status") == "running" and isinstance(campaign.get("id"), str):
            found, cursor = self.seen_index.resume_of(campaign["id"])
            if found:
                campaign["resume"] = cursor
                campaign.pop("cursor", None)
            # this run's batches carry it on, so the newest object always says
            resume = campaign.get("resume")
            self.seen_index.adopt_resume(
                campaign["id"], resume if resume is not None else campaign.get("cursor"))
        return campaign

    def save_backfill(self, campaign: dict[str, Any]) -> None:
        """Blocking (but for a checkpoint not due yet). A running campaign whose cursor
        alone moved is a checkpoint on a remote store (see the module's docstring)."""
        if self.checkpoint_seconds is not None and campaign.get("status") == "running" \
                and isinstance(campaign.get("id"), str):
            with self._lock:
                stored = self._stored.get("backfill.json")
            if stored is not None and _without_cursor(stored) == _without_cursor(campaign):
                self.seen_index.set_resume(campaign["id"], campaign.get("resume"))
                self._checkpoint()
                return
            if campaign.get("resume") is not None or self.seen_index.carries_resume():
                # the batches' cursor, newer than backfill.json's, must not say otherwise
                self.seen_index.set_resume(campaign["id"], campaign.get("resume"))
        self._save_object("backfill.json", campaign)

    def load_incremental(self, planning: bool = False) -> dict[str, Any] | None:
        return self._load_object("incremental.json", planning)

    def save_incremental(self, walk: dict[str, Any]) -> None:
        self._save_object("incremental.json", walk)

    # --- changes journal ----------------------------------------------------------------
    def _changes_prefix(self, run_id: str) -> str:
        return state_prefix(self.site, "changes", run_id)

    def put_change(self, run_id: str, record_id: str, line: dict[str, Any]) -> str:
        """Journal one line of the run's feed in a part of its own (blocking until it is
        stored); returns the line's id for `drop_change`. The item pipeline groups its
        lines with `harvester.journal.ChangeJournal` instead."""
        line_id = secrets.token_hex(8)
        self.write_journal_part(run_id, [line | {"line_id": line_id}])
        return line_id

    def _journal_opening(self) -> None:
        hook = self.before_journal
        if hook is not None:
            hook()

    def drop_change(self, run_id: str, line_id: str) -> None:
        key = state_key(self.site, "changes", run_id, f"drop-{line_id}.json")
        self._journal_opening()
        with self._lock:
            if run_id == self.run_id:
                self._journaled.add(run_id)
                self._journal_keys.append(key)
        with contextlib.suppress(StoreError):
            self.store.put(key, b"{}", content_type=JSON)

    def write_journal_part(self, run_id: str, lines: list[dict[str, Any]]) -> None:
        key = state_key(self.site, "changes", run_id, f"part-{secrets.token_hex(8)}.json")
        self._journal_opening()
        with self._lock:
            self._journaled.add(run_id)
            if run_id == self.run_id:
                self._journal_keys.append(key)
        self.store.put(key, _dump({"lines": lines}), content_type=JSON)

    def iter_changes(self, run_id: str) -> Iterator[dict[str, Any]]:
        prefix = self._changes_prefix(run_id)
        lines: list[dict[str, Any]] = []
        dropped: set[str] = set()
        for key in self._list(prefix):
            name = key[len(prefix):]
            if name.startswith("drop-") and name.endswith(".json"):
                dropped.add(name[len("drop-"):-len(".json")])
                continue
            value = load_json(self.store.get(key))
            if isinstance(value, dict) and isinstance(value.get("lines"), list):
                lines.extend(v for v in value["lines"] if isinstance(v, dict))
            elif isinstance(value, dict):  # one line per object (earlier versions)
                lines.append(value)
        for line in lines:
            if line.pop("line_id", None) not in dropped:
                yield line

    def drop_changes(self, run_id: str) -> None:
        """Remove the run's journal once its feed is written (left in place if the store is
        down: the next run then rebuilds the same feed from it). This state's own run: the
        objects it wrote (its run id is its own), without listing them."""
        with self._lock:
            own = run_id == self.run_id
            if own and run_id not in self._journaled:
                return  # this run journaled nothing
            written = list(self._journal_keys) if own else []
        with contextlib.suppress(StoreError):
            keys = written or self._list(self._changes_prefix(run_id))
            delete_all(self.store, keys)  # S3: 1,000 keys a request
            if own:
                with self._lock:
                    self._journal_keys = [k for k in self._journal_keys if k not in keys]

    def journal_run_ids(self) -> list[str]:
        prefix = state_prefix(self.site, "changes")
        runs = {key[len(prefix):].split("/", 1)[0] for key in self._list(prefix)}
        return sorted(runs)


def _without_cursor(campaign: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in campaign.items() if k not in _CURSOR_FIELDS}
