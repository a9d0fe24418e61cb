"""Runs one harvest in this process (Scrapy's CrawlerProcess) and returns its exit status."""

from __future__ import annotations

import sys
from typing import Any

from harvester import redact
from harvester.config import setting, setting_int
from harvester.exceptions import ConfigError


def spider_class(site: str) -> Any:
    """The spider of source `site`, from the one registry of sources."""
    from harvester.registry import spider_class as registered

    return registered(site)


def check_settings(settings: Any) -> None:
    from urllib.parse import urlsplit

    mode = setting(settings, "HARVESTER_MODE")
    if mode not in ("auto", "incremental", "backfill"):
        raise ConfigError(f"unknown mode {mode!r}")
    base = settings.get("HARVESTER_BASE_URL") or ""
    if base and (urlsplit(base).scheme not in ("http", "https") or not urlsplit(base).hostname):
        raise ConfigError(f"--base-url must be an http(s) URL, got {base!r}")
    store = settings.get("HARVESTER_STORE") or ""
    if store.startswith("s3://") and not store[5:].split("/", 1)[0]:
        raise ConfigError(f"--store s3:// needs a bucket name, got {store!r}")


REMOTE_CONTROL = "scrapy.extensions.remote_control.RemoteControl"


def skip_disabled_remote_control(settings: Any) -> None:
    """With REMOTE_CONTROL_ENABLED off (the harvester's default), leave Scrapy's remote
    control extension out of EXTENSIONS_BASE: Scrapy imports every extension's module
    (even one set to None in EXTENSIONS) before the extension says it is not configured,
    and this one's pulls in aiohttp's web server (~85 ms of every run's start-up)."""
    if settings.getbool("REMOTE_CONTROL_ENABLED") or settings.frozen:
        return
    base = settings.getdict("EXTENSIONS_BASE")
    if REMOTE_CONTROL in base:
        base.pop(REMOTE_CONTROL)
        settings.set("EXTENSIONS_BASE", base, priority=settings.getpriority("EXTENSIONS_BASE"))


# Scrapy's TLS modules make three deprecated aliases as they are imported (scrapy.utils.
# deprecate.create_deprecated_class), each calling inspect.stack() to name its module: the
# source line of every frame on the stack, read from the files (importlib's frozen frames
# make inspect search all of sys.modules), ~0.1 s of every run's start for what the
# caller's frame alone says. They are imported first here with a stack of bare frames (the
# same frames, no source lines): the aliases and their __module__ are the same.
DEPRECATING_MODULES = ("scrapy.core.downloader.tls", "scrapy.core.downloader.contextfactory")


def import_deprecating_modules() -> None:
    import importlib
    import inspect

    if all(name in sys.modules for name in DEPRECATING_MODULES):
        return

    def bare_stack(context: int = 1) -> list[inspect.FrameInfo]:
        out = []
        frame = sys._getframe(1)
        while frame is not None:
            out.append(inspect.FrameInfo(frame, frame.f_code.co_filename, frame.f_lineno,
                                         frame.f_code.co_name, None, None))
            frame = frame.f_back  # type: ignore[assignment]
        return out

    real = inspect.stack
    inspect.stack = bare_stack
    try:
        for name in DEPRECATING_MODULES:
            importlib.import_module(name)
    finally:
        inspect.stack = real


def run_harvest(site: str, settings: Any) -> int:
    """Run the harvest to its end; returns the exit status (see README "Exit status")."""
    from scrapy.crawler import CrawlerProcess

    from harvester.context import RunContext

    spidercls = spider_class(site)
    check_settings(settings)
    # --- Distributed (Redis): --workers N starts N local workers; --redis makes this one
    redis_url = settings.get("HARVESTER_REDIS_URL") or ""
    workers = setting_int(settings, "HARVESTER_WORKERS")
    if workers > 1 or redis_url:
        from harvester.distributed import setup
        from harvester.distributed import workers as local_workers

        if not redis_url:
            raise ConfigError("--workers needs --redis URL: the workers share the crawl there")
        setup.check_redis_url(redis_url)
        if workers > 1:
            return local_workers.run_workers(site, settings, workers)
        if settings.getbool("HARVESTER_REDIS_JOIN_ONLY") and not setup.crawl_running(settings, site):
            print(f"harvester harvest: no crawl of {site} runs in Redis: nothing to join",
                  file=sys.stderr)
            return 0
        setup.worker_settings(settings)  # the same spider, with the shared crawl's strategy
    # --- end Distributed (Redis)
    skip_disabled_remote_control(settings)
    import_deprecating_modules()
    process = CrawlerProcess(settings)
    redact.install()
    crawler = process.create_crawler(spidercls)
    process.crawl(crawler)
    _tune_gc()
    process.start()
    ctx = getattr(crawler, RunContext._ATTR, None)
    if ctx is None or not crawler.stats or crawler.stats.get_value("finish_reason") is None:
        print("harvester harvest: the run could not start (see the log above)", file=sys.stderr)
        return 1
    if ctx.exit_code:
        print(f"harvester harvest: {ctx.exit_reason}", file=sys.stderr)
    return int(ctx.exit_code)


# A crawl makes millions of short-lived objects and few cycles: the collector's default
# (a young-generation pass every 700 allocations, over everything alive) cost ~5% of a
# backfill's CPU. Objects alive at start (modules, settings, the extractor's tables) are
# frozen out of every pass; young passes run ten times less often.
GC_THRESHOLDS = (7000, 10, 10)


def _tune_gc() -> None:
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
