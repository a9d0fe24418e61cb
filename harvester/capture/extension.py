"""`WarcCapture`: every fetched document page and file captured in WARC 1.1 under raw/<site>/.

Hook: Scrapy's `response_downloaded` signal, sent by the downloader right after a
download and *before* the downloader middlewares, so the body is still as the
server sent it (HttpCompressionMiddleware has not decoded gzip/deflate/br yet) and
redirect/retry responses are captured too. See `exchange.py` for what Scrapy
does not keep (header case, reason phrase, chunking, Host).

Nothing here blocks the reactor: the signal handler only copies the fetch into an
`Exchange`. In a crawl, the run's worker process renders its records (`render.py`: warcio
and gzip, most of a capture's CPU, off the reactor's GIL); then one writer thread
looks up the payload digest (a repeat becomes a revisit record instead), appends the
records to a local temporary WARC file and rolls it at
HARVESTER_WARC_MAX_BYTES; rolled files are uploaded by an uploader thread as
raw/<site>/<run_id>-<seq:05d>.warc.gz (create-only), the last one at spider close.
A crash loses the file being written (it stays in the temporary folder) and the
fetches still queued; uploaded files and their payload index objects are unaffected.

Stats: warc/records/response, warc/records/revisit, warc/records/request,
warc/files, warc/bytes, warc/errors, warc/upload_failed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from harvester import __version__
from harvester.capture.exchange import Exchange, exchange_from
from harvester.capture.leftovers import recover
from harvester.capture.leftovers import store_tag as tag_of_store
from harvester.capture.payloads import PayloadIndex
from harvester.capture.records import (
    PayloadDigest,
    builder,
    record_id,
    request_record,
    revisit_record,
)
from harvester.capture.render import Rendered, render_fetch
from harvester.capture.rolling import RollingWarcFile
from harvester.config import setting_bool, setting_int, setting_list
from harvester.exceptions import HarvesterError
from harvester.keys import raw_key
from pipelines.storage import Store

log = logging.getLogger(__name__)

DEFAULT_KINDS = ("document", "file", "withdraw_check")
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
BACKLOG_HIGH = 64  # fetches queued for the WARC writer before the crawl pauses
BACKLOG_LOW = 16  # ... and resumes

FIDELITY_NOTE = (
    "HTTP header names as normalised by Scrapy (title case); reason phrase is the standard"
    " one for the status code; bodies as received (Content-Encoding kept, chunking removed:"
    " Transfer-Encoding renamed X-Archive-Orig-Transfer-Encoding); request Host rebuilt from"
    " the URL"
)


class WarcCapture:
    def __init__(self, *, store: Store, site: str, run_id: str,
                 kinds: frozenset[str] = frozenset(DEFAULT_KINDS),
                 max_bytes: int = DEFAULT_MAX_BYTES, revisits: bool = True,
                 tmp_dir: str | Path | None = None, stats: Any = None,
                 gzip_level: int = 6,
                 listed: Callable[[str], list[str] | None] | None = None,
                 store_tag: str = "") -> None:
        self.store = store
        self.site = site
        self.run_id = run_id
        self.kinds = kinds
        self.revisits = revisits
        self.stats = stats
        self.index = PayloadIndex(store, site, listed)
        base = Path(tmp_dir) if tmp_dir else Path(tempfile.gettempdir())
        # <site>-<store tag>/<run>-<pid>: a killed run's files go back to their own site's
        # store, taken by its next run (harvester/capture/leftovers.py)
        group = f"{site}-{store_tag}" if store_tag else site
        self.folder = base / "archive-harvester-warc" / group / f"{run_id}-{os.getpid()}"
        self.file = RollingWarcFile(
            self.folder, self._name, max_bytes, self._rolled,
            info={"software": f"archive-harvester/{__version__} (warcio)",
                  "format": "WARC File Format 1.1", "isPartOf": run_id, "site": site,
                  "description": FIDELITY_NOTE},
            gzip_level=gzip_level,
        )
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warc-writer")
        self._uploader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warc-upload")
        self._uploads: list[Future[None]] = []
        self.stored_keys: list[str] = []
        # what killed runs of this site and store left on this machine: stored first
        self._uploads.append(self._uploader.submit(self._recover))
        # backpressure: fetches wait in the writer's queue with their bodies; past HIGH of
        # them the crawl pauses until the writer is back under LOW (memory stays flat)
        self.crawler: Any = None  # set by from_crawler; None in unit tests (no backpressure)
        # renders records in a worker process (set by from_crawler; None: the writer renders)
        self.renderer: Any = None
        self.gzip_level = gzip_level
        self._rendering: set[asyncio.Future[None]] = set()
        self._backlog = 0
        self._backlog_lock = threading.Lock()
        self._paused = False

    @classmethod
    def from_crawler(cls, crawler: Any) -> WarcCapture:
        from harvester.context import RunContext

        s = crawler.settings
        if not setting_bool(s, "HARVESTER_WARC_ENABLED"):
            raise NotConfigured
        ctx = RunContext.of(crawler)
        ext = cls(
            store=ctx.store, site=ctx.site, run_id=ctx.run_id,
            kinds=frozenset(setting_list(s, "HARVESTER_WARC_KINDS")),
            max_bytes=setting_int(s, "HARVESTER_WARC_MAX_BYTES"),
            revisits=setting_bool(s, "HARVESTER_WARC_REVISITS"),
            tmp_dir=s.get("HARVESTER_WARC_TMP_DIR") or None, stats=crawler.stats,
            gzip_level=setting_int(s, "HARVESTER_WARC_GZIP_LEVEL"),
            listed=ctx.state.listed, store_tag=tag_of_store(ctx.store_uri),
        )
        ext.crawler = crawler
        pool = ctx.extract_pool(s)
        ext.renderer = pool if pool.size else None
        crawler.signals.connect(ext.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    # --- reactor thread -----------------------------------------------------------------
    def response_downloaded(self, response: Any, request: Any, spider: Any = None) -> None:
        if request.meta.get("kind") not in self.kinds:
            return
        self.capture(exchange_from(request, response, datetime.now(UTC)))

    def capture(self, ex: Exchange) -> None:
        """Queue one fetch for rendering and the writer thread (pausing the crawl when the
        queue is long)."""
        with self._backlog_lock:
            self._backlog += 1
            pause = self._backlog >= BACKLOG_HIGH and not self._paused
            if pause:
                self._paused = True
        if pause:
            engine = self.engine_of()
            if engine is not None:
                engine.pause()
                self._inc("warc/backpressure_pauses")
        if self.renderer is not None and self.renderer.size:  # not after its workers failed
            task = asyncio.ensure_future(self._render(ex))
            self._rendering.add(task)
            task.add_done_callback(self._rendering.discard)
        else:
            self._writer.submit(self._write_counted, ex)

    async def _render(self, ex: Exchange) -> None:
        """Reactor thread: records rendered by the worker process, appended by the writer."""
        try:
            rendered = await self.renderer.run(render_fetch, ex, self.gzip_level)
        except Exception as exc:  # noqa: BLE001 - the writer renders it instead
            log.debug("rendering the capture of %s in the worker failed (%s); the writer "
                      "thread renders it", ex.url, exc)
            self._writer.submit(self._write_counted, ex)
            return
        self._writer.submit(self._write_counted, ex, rendered)

    def _resume(self) -> None:
        """Reactor thread: the writer caught up, let the crawl go on."""
        engine = self.engine_of()
        if engine is None:
            return
        engine.unpause()
        nextcall = getattr(getattr(engine, "_slot", None), "nextcall", None)
        if nextcall is not None:  # start requests now rather than at the next heartbeat
            nextcall.schedule()

    def engine_of(self) -> Any:
        return self.crawler.engine if self.crawler is not None else None

    async def spider_closed(self, spider: Any = None, reason: str = "") -> None:
        if self._rendering:
            await asyncio.gather(*list(self._rendering), return_exceptions=True)
        await maybe_deferred_to_future(deferToThread(self.close))

    # --- writer thread ------------------------------------------------------------------
    def _write_counted(self, ex: Exchange, rendered: Rendered | None = None) -> None:
        try:
            self._write(ex, rendered)
        finally:
            with self._backlog_lock:
                self._backlog -= 1
                resume = self._paused and self._backlog <= BACKLOG_LOW
                if resume:
                    self._paused = False
            if resume:
                from twisted.internet import reactor

                reactor.callFromThread(self._resume)

    def _write(self, ex: Exchange, rendered: Rendered | None = None) -> None:
        """Append one fetch's records: a revisit record when its payload was captured
        before, else the full capture (`rendered` by the worker, or rendered here)."""
        name = self.file.current_name
        try:
            digest = rendered.digest if rendered is not None else PayloadDigest.of(ex.body)
            original = self.index.find(digest) if self.revisits and ex.body else None
            if original is not None:  # no body: cheap to render here
                b = builder()
                first, kind = revisit_record(b, ex, digest, original), "revisit"
                self.file.write([first, request_record(b, ex, record_id(first))])
            else:
                rendered = rendered or render_fetch(ex, self.gzip_level, digest)
                kind = "response"
                if self.revisits and ex.body:
                    self.index.add(digest, rendered.original, name)
                self.file.write_bytes(rendered.data)
        except (OSError, HarvesterError, ValueError) as exc:
            log.error("WARC capture of %s failed: %s", ex.url, exc)
            self._inc("warc/errors")
            return
        self._inc(f"warc/records/{kind}")
        self._inc("warc/records/request")

    def _name(self, seq: int) -> str:
        return f"{self.run_id}-{seq:05d}.warc.gz"

    def _rolled(self, path: Path, seq: int) -> None:
        self._uploads.append(self._uploader.submit(self._upload, path))

    # --- uploader thread ----------------------------------------------------------------
    def _recover(self) -> None:
        try:
            done = recover(self.folder.parent, self.folder, self.store, self.site)
        except Exception:  # a failed recovery is not this run's failure: said, and kept
            log.exception("the WARC files killed runs left in %s could not be recovered",
                          self.folder.parent)
            return
        if done.files:
            self._inc("warc/recovered_files", done.files)
        if done.already_stored:
            self._inc("warc/recovered_already_stored", done.already_stored)
        if done.dropped_bytes:
            self._inc("warc/recovered_dropped_bytes", done.dropped_bytes)

    def _upload(self, path: Path) -> None:
        try:
            data = path.read_bytes()
            key = raw_key(self.site, path.name)
            if not self.store.put(key, data, content_type="application/warc", if_absent=True):
                # another process of the same run id took the name
                key = raw_key(self.site, path.name.replace(
                    ".warc.gz", f"-{secrets.token_hex(3)}.warc.gz"))
                self.store.put(key, data, content_type="application/warc")
            sync = getattr(self.store, "sync", None)
            if callable(sync):  # durable before the payload index points into it
                sync()
            self.index.publish(path.name, key)
        except (OSError, HarvesterError) as exc:
            log.error("WARC file %s could not be stored (kept at %s): %s", path.name, path, exc)
            self.index.forget(path.name)
            self._inc("warc/upload_failed")
            return
        path.unlink(missing_ok=True)
        self.stored_keys.append(key)
        self._inc("warc/files")
        self._inc("warc/bytes", len(data))
        log.info("stored WARC %s (%d bytes)", key, len(data))

    # --- close --------------------------------------------------------------------------
    def close(self) -> None:
        """Finish: write what is queued, roll and upload the last file (blocking)."""
        self._writer.submit(self.file.roll).result()
        self._writer.shutdown(wait=True)
        for upload in list(self._uploads):
            upload.result()
        self._uploader.shutdown(wait=True)
        if self.folder.is_dir() and not any(self.folder.iterdir()):
            shutil.rmtree(self.folder, ignore_errors=True)

    def _inc(self, key: str, count: int = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(key, count)
