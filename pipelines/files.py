"""FilesPipeline: downloads each new or changed record's PDFs/scans and stores them under
files/<site>/<record_id>/<name>, filling in key, sha256, size and content_type.

Nothing stored is overwritten with other bytes and lost: when a changed (or restored, or
repaired) record's file lands on a key that holds other bytes (the archive replaced the
PDF under the same name), those bytes are kept first under
versions/<site>/<record_id>/files/<their sha256>/<name>, and the superseded version of the
record (written next by StorePipeline from `item.previous`) points its file there. A file
whose bytes are already at its key is not written again (`files/unchanged`).

Downloads go through Scrapy's downloader (robots.txt, politeness, retries, size caps) via
the engine; storage I/O runs on the run's thread pool. A file that cannot be fetched keeps
key null; the next run sees the record as "repaired" and tries again.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any
from urllib.parse import unquote, urlsplit

import scrapy
from scrapy.exceptions import NotConfigured

from harvester import responsetypes
from harvester.config import setting_bool
from harvester.context import RunContext
from harvester.items import DocumentItem
from harvester.keys import fallback_file_name, file_key, file_version_key, safe_file_name
from pipelines.base import RunPipeline

logger = logging.getLogger(__name__)

# what a stored record's file key holds before its file is written (_keep_earlier)
WRITE, UNCHANGED, KEPT = "write", "unchanged", "kept"

_DISPOSITION_RE = re.compile(r"""filename\*?=(?:UTF-8'')?["']?([^"';]+)""", re.IGNORECASE)


def file_name(url: str, headers_disposition: str, record_id: str, index: int) -> str:
    """The stored file's name: from Content-Disposition, else the URL, else <record_id>.pdf."""
    fallback = fallback_file_name(record_id, index)
    match = _DISPOSITION_RE.search(headers_disposition or "")
    candidates = [unquote(match.group(1)) if match else "",
                  unquote(urlsplit(url).path.rsplit("/", 1)[-1])]
    for name in candidates:
        if "." in name and not name.startswith("."):
            return safe_file_name(name, fallback)
    return fallback


class FilesPipeline(RunPipeline):
    def __init__(self, ctx: RunContext, crawler: Any, maxsize: int) -> None:
        super().__init__(ctx, crawler.stats, crawler)
        self.maxsize = maxsize

    @classmethod
    def from_crawler(cls, crawler: Any) -> Any:
        if not setting_bool(crawler.settings, "HARVESTER_DOWNLOAD_FILES"):
            raise NotConfigured
        maxsize = crawler.settings.getint("HARVESTER_FILE_MAXSIZE")
        responsetypes.install()  # PDFs and scans are not sniffed for text
        return cls(RunContext.of(crawler), crawler, maxsize)

    async def process_document(self, item: DocumentItem) -> DocumentItem:
        if item.status == "unchanged":
            return item
        record = item.record
        if record["files"]:
            item.encoded = None  # the files' keys and hashes go into the record
        used: set[str] = set()
        earlier_files = [f for f in (item.previous or {}).get("files") or []
                         if isinstance(f, dict)]
        previous = {f.get("url"): f for f in earlier_files}
        # a stored record's keys may hold bytes to keep; a new one's hold nothing of it (an
        # unverified record's store could not be read: it is written as before)
        earlier = earlier_files if item.previous is not None and not item.unverified else None
        for index, entry in enumerate(record["files"]):
            old = previous.get(entry["url"])
            if item.status == "repaired" and old and old.get("key"):
                entry.update({k: old.get(k) for k in ("key", "sha256", "size", "content_type")})
                used.add(old["key"])
                continue
            await self._fetch(record["record_id"], entry, index, used, earlier)
        return item

    async def _fetch(self, record_id: str, entry: dict[str, Any], index: int,
                     used: set[str], earlier: list[dict[str, Any]] | None = None) -> None:
        spider = self.crawler.spider
        url = spider.file_url(entry["url"]) if hasattr(spider, "file_url") else entry["url"]
        request = scrapy.Request(url, meta={"kind": "file", "download_maxsize": self.maxsize},
                                 dont_filter=True)
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as exc:  # noqa: BLE001 - any download failure leaves the file for next run
            self.stats.inc_value("files/failed")
            logger.warning("file %s failed: %s", url, f"{type(exc).__name__}: {exc}"[:200])
            return
        if response.status != 200 or not response.body:
            self.stats.inc_value("files/failed")
            logger.warning("file %s failed: HTTP %s", url, response.status)
            return
        body = response.body
        disposition = response.headers.get(b"Content-Disposition", b"").decode("latin-1")
        name = file_name(url, disposition, record_id, index)
        key = file_key(self.ctx.site, record_id, name)
        n = 1
        while key in used:
            key = file_key(self.ctx.site, record_id, f"{n}-{name}")
            n += 1
        used.add(key)
        content_type = (response.headers.get(b"Content-Type", b"application/octet-stream")
                        .decode("latin-1").split(";")[0].strip() or "application/octet-stream")
        sha = hashlib.sha256(body).hexdigest()
        held = WRITE if earlier is None else await self.ctx.io(self._keep_earlier, record_id,
                                                               key, sha, earlier)
        if held == UNCHANGED:
            self.stats.inc_value("files/unchanged")
        else:
            if held == KEPT:
                self.stats.inc_value("files/earlier_kept")
            await self.ctx.io(self.ctx.store.put, key, body, content_type=content_type)
            self.stats.inc_value("files/stored")
            self.stats.inc_value("files/bytes", len(body))
        entry.update(key=key, sha256=sha, size=len(body), content_type=content_type)

    def _keep_earlier(self, record_id: str, key: str, sha: str,
                      earlier: list[dict[str, Any]]) -> str:
        """Blocking, before a stored record's file is written to `key`: UNCHANGED when `key`
        already holds these bytes (nothing to write); else the bytes it holds, if any, are
        kept under versions/<site>/<record_id>/files/<their sha256>/<name> (KEPT), and the
        earlier record's entries that named them at `key` name that key instead; WRITE when
        it holds nothing."""
        store = self.ctx.store
        claimed = [f for f in earlier if f.get("key") == key]
        if any(f.get("sha256") == sha for f in claimed) and store.exists(key):
            return UNCHANGED
        held = store.get(key)
        if held is None:
            return WRITE
        held_sha = hashlib.sha256(held).hexdigest()
        if held_sha == sha:
            return UNCHANGED
        kept = file_version_key(self.ctx.site, record_id, held_sha, key.rsplit("/", 1)[-1])
        content_type = next((f.get("content_type") for f in claimed if f.get("content_type")),
                            None)
        store.put(kept, held, content_type=content_type or "application/octet-stream",
                  if_absent=True)
        for f in claimed:
            if f.get("sha256") == held_sha:
                f["key"] = kept
        logger.info("file %s replaced: its earlier bytes kept as %s", key, kept)
        return KEPT
