"""Distributed harvesting: processes started with the same `--redis URL` share one crawl.

Built on scrapy-redis (its scheduler, priority queue and dupefilter, subclassed where
scrapy-redis 0.9.1 does not fit Scrapy 2.19 or a shared, restartable crawl):

    keys.py         CrawlKeys: the Redis key names of a site's crawls
    serializer.py   JSON request serializer (scrapy-redis defaults to pickle)
    coordinator.py  CrawlCoordinator: joins, starts or resumes the site's crawl; a pop is a
                    claim that marks the worker busy; heartbeats; reaps dead workers and
                    queues their claims again; decides when the crawl is done (Lua scripts)
    scheduler.py    RedisScheduler: scrapy-redis's scheduler on the crawl's keys
    idle.py         CrawlIdle: keeps an idle worker open until the whole crawl is done
    strategy.py     SharedCrawl: the crawl strategy the spider is given (the spider's mode,
                    backfill campaign and listing state agreed through Redis instead of kept
                    per process; the branches of a split walk recorded; claims released as
                    work is done)
    workers.py      run_workers: `--workers N` starts N local worker processes
    setup.py        the settings a worker runs with (scheduler, idle extension, strategy)

A crawl is one walk of a site shared by any number of workers; `P:<site>:crawl` names the
running one. Its keys are `P:<site>:<crawl id>:{requests,seen,workers,busy,info}` and
`...:inflight:<worker>` (each worker's claims). When the
crawl is done the pointer is dropped, so the next run starts a new crawl with an empty
seen-set; a done crawl's keys expire after HARVESTER_REDIS_DONE_TTL, an abandoned one's
after HARVESTER_REDIS_KEY_TTL without a heartbeat.
"""
