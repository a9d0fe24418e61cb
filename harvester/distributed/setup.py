"""What a Redis worker runs with: its scheduler, idle extension and crawl strategy."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from harvester.exceptions import ConfigError

SCHEDULER = "harvester.distributed.scheduler.RedisScheduler"
STRATEGY = "harvester.distributed.strategy.SharedCrawl"
IDLE_EXTENSION = "harvester.distributed.idle.CrawlIdle"
REDIS_SCHEMES = ("redis", "rediss", "unix")


def check_redis_url(url: str) -> None:
    """A one-line ConfigError when the URL is malformed or the server does not answer."""
    from harvester.distributed.coordinator import connect

    if urlsplit(url).scheme not in REDIS_SCHEMES:
        raise ConfigError(f"--redis expects redis://HOST:PORT/DB, got {url!r}")
    try:
        server = connect(url)
        server.ping()
        server.close()
    except Exception as exc:  # noqa: BLE001 - any failure is reported in one line
        raise ConfigError(f"cannot reach Redis at {url}: {exc}") from exc


def crawl_running(settings: Any, site: str) -> bool:
    """Whether a crawl of the site runs in HARVESTER_REDIS_URL (for HARVESTER_REDIS_JOIN_ONLY)."""
    from harvester.distributed.coordinator import CrawlCoordinator

    coordinator = CrawlCoordinator.from_settings(settings, site)
    try:
        return bool(coordinator.running_crawl())
    finally:
        coordinator.server.close()


def worker_settings(settings: Any) -> None:
    """Turn the run's settings into a worker's of the crawl shared in HARVESTER_REDIS_URL."""
    settings.set("SCHEDULER", SCHEDULER, priority="cmdline")
    settings.set("HARVESTER_CRAWL_STRATEGY", STRATEGY, priority="cmdline")
    extensions = dict(settings.getdict("EXTENSIONS"))
    extensions[IDLE_EXTENSION] = 50
    settings.set("EXTENSIONS", extensions, priority="cmdline")
