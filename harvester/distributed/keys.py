"""CrawlKeys: the names of a site's crawl keys in Redis (one place, so tests and tools agree)."""

from __future__ import annotations

from dataclasses import dataclass, replace

# per-crawl keys, in the order the Lua scripts of coordinator.py expect them
CRAWL_PARTS = ("requests", "seen", "workers", "busy", "info")


@dataclass(frozen=True)
class CrawlKeys:
    prefix: str
    site: str
    crawl: str = ""

    @property
    def base(self) -> str:
        """`<prefix>:<site>`: every key of the site starts with it."""
        return f"{self.prefix}:{self.site}"

    @property
    def current(self) -> str:
        """String key: the id of the site's running crawl (absent when none runs)."""
        return f"{self.base}:crawl"

    def lock(self, name: str) -> str:
        return f"{self.base}:{self.crawl}:lock:{name}"

    def of(self, crawl: str) -> CrawlKeys:
        return replace(self, crawl=crawl)

    @property
    def crawl_prefix(self) -> str:
        """`<prefix>:<site>:<crawl>`: every key of the crawl starts with it."""
        if not self.crawl:
            raise ValueError("no crawl id: join a crawl first")
        return f"{self.base}:{self.crawl}"

    def part(self, name: str) -> str:
        return f"{self.crawl_prefix}:{name}"

    @property
    def requests(self) -> str:
        """Sorted set: the shared frontier (scrapy-redis PriorityQueue, score -priority)."""
        return self.part("requests")

    @property
    def seen(self) -> str:
        """Set: fingerprints of every request scheduled in this crawl (the dupefilter)."""
        return self.part("seen")

    @property
    def workers(self) -> str:
        """Sorted set: worker id -> its last heartbeat (Redis server time)."""
        return self.part("workers")

    @property
    def busy(self) -> str:
        """Sorted set: workers with work in flight -> last heartbeat."""
        return self.part("busy")

    @property
    def info(self) -> str:
        """Hash: mode, campaign, listing_exhausted, walk, walk_ended, listing_error, limited,
        reaped, requeued, done, finalizer, and branch_planned:<id> / branch_stopped:<id> for
        the branches of a split walk (harvester.source.FanOut)."""
        return self.part("info")

    def inflight(self, worker: str) -> str:
        """Hash: a worker's claims, claim id -> the request it popped and has not finished."""
        return self.part(f"inflight:{worker}")

    def all(self) -> list[str]:
        return [self.part(name) for name in CRAWL_PARTS]
