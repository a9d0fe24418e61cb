"""Scrapy settings of the harvester, every one with its default and a one-line comment.

Grouped by component prefix. Any of them can be overridden with `-s NAME=VALUE`
(`harvester harvest ... -s DOWNLOAD_DELAY=0`) or `scrapy crawl ... -s`.
The harvester's own settings start with HARVESTER_; environment variables that
map to them are listed in harvester/config.py and the README.
"""

from __future__ import annotations

from harvester.config import user_agent

BOT_NAME = "archive-harvester"
# Spiders come from the registry of sources (harvester/registry.py): one per source.
SPIDER_LOADER_CLASS = "harvester.registry.SourceSpiderLoader"
SPIDER_MODULES: list[str] = []
COMMANDS_MODULE = "harvester.scrapy_commands"  # scrapy crawl exits with the harvest's status
LOG_LEVEL = "INFO"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"  # Scrapy's default, explicit
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"  # the current fingerprinter, explicit
TELNETCONSOLE_ENABLED = False  # no listening port in unattended runs
# Nor Scrapy's remote-control HTTP server (on by default since Scrapy 2.14: a localhost port
# that runs code sent with its token); off, it also spares ~85 ms of aiohttp imports a run.
REMOTE_CONTROL_ENABLED = False
# Records in flight per response (Scrapy: 100). A document page yields one record; Scrapy
# starts this many asyncio tasks for every response it parses, whatever it yields, so 100
# cost ~5 s of CPU per 2,000 documents (bench/README.md "Where the time went").
CONCURRENT_ITEMS = 8
STATS_CLASS = "harvester.stats.HarvestStats"  # Scrapy's memory stats, minus a per-access wrapper
# Bytes of the responses whose items are in the pipelines (Scrapy: 5 MB; above it the engine
# fetches nothing more). On S3 a record waits up to HARVESTER_JOURNAL_LINGER for its journal
# part (one PUT for the lines of seconds, written early when half of this is taken): 20 MB
# lets ~5 s of a fast crawl wait without holding it back.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 20_000_000

# --- Who we are (the live site sees this) -------------------------------------------------
HARVESTER_CONTACT_URL = "https://github.com/archive-harvester/archive-harvester"  # named in the User-Agent
USER_AGENT = user_agent(HARVESTER_CONTACT_URL)  # the CLI rebuilds it when the contact URL is changed

# --- Politeness (defaults are for the live site; tests and mirrors use -s DOWNLOAD_DELAY=0) --
ROBOTSTXT_OBEY = True  # obey robots.txt; its Crawl-delay is honoured by PoliteThrottle
CONCURRENT_REQUESTS = 8  # total in flight
CONCURRENT_REQUESTS_PER_DOMAIN = 1  # one request at a time per host unless configured
DOWNLOAD_DELAY = 1.0  # seconds between requests to one host (a floor for AutoThrottle)
DOWNLOAD_DELAY_JITTER = 0.5  # +-50% random variation of the delay
AUTOTHROTTLE_ENABLED = True  # adapt the delay to the server's latency
AUTOTHROTTLE_START_DELAY = 2.0  # first delay before latencies are known
AUTOTHROTTLE_MAX_DELAY = 60.0  # never wait longer than this between requests
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0  # requests in parallel the throttle aims at
HARVESTER_CRAWL_DELAY_MAX = 60.0  # cap on a robots.txt Crawl-delay we honour (seconds)

# --- Retries: Retry-After honoured, exponential backoff with jitter -----------------------
RETRY_ENABLED = True
RETRY_TIMES = 4  # retries after the first attempt (429/5xx/timeouts/resets/data loss)
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
HARVESTER_BACKOFF_BASE = 1.0  # first backoff in seconds, doubled each retry, +-50% jitter
HARVESTER_BACKOFF_MAX = 120.0  # cap on one backoff, and on a Retry-After we honour
DOWNLOAD_TIMEOUT = 60  # seconds for one response
DOWNLOAD_FAIL_ON_DATALOSS = True  # truncated bodies (Content-Length mismatch) are errors, retried

# --- Bot-manager challenge pages ------------------------------------------------------------
HARVESTER_CHALLENGE_PAUSE = 30.0  # seconds to pause after a challenge page, doubled each time
HARVESTER_CHALLENGE_RETRIES = 3  # retries of one URL that answered with a challenge
HARVESTER_CHALLENGE_LIMIT = 10  # consecutive challenges that stop the run cleanly

# --- Crawl scope and size limits ------------------------------------------------------------
REDIRECT_ENABLED = True  # same-host redirects (old numeric URLs) are followed
REDIRECT_MAX_TIMES = 5
DOWNLOAD_MAXSIZE = 200 * 1024 * 1024  # hard cap for any response (PDF scans can be large)
DOWNLOAD_WARNSIZE = 50 * 1024 * 1024
HARVESTER_HTML_MAXSIZE = 8 * 1024 * 1024  # HTML pages beyond this are refused (live pages: tens of KB)
HARVESTER_FILE_MAXSIZE = 200 * 1024 * 1024  # PDFs/scans beyond this are refused
COMPRESSION_ENABLED = True  # gzip/deflate/br decoded, bombs stopped by the size caps above

# --- The run ---------------------------------------------------------------------------------
HARVESTER_STORE = "./harvest-data"  # store URI: a local path, file://..., or s3://bucket/prefix
HARVESTER_MODE = "auto"  # auto | incremental | backfill (auto: see README "Harvest modes")
HARVESTER_BASE_URL = ""  # crawl a mirror or the sample archive instead of the live site
HARVESTER_LIMIT = 0  # stop after this many documents (0: no limit)
HARVESTER_LISTING_PAGE_SIZE = 0  # results asked per listing page (0: the site's, 100 for wilson)
HARVESTER_LISTING_SWEEPS = 2  # backfill: passes again over a listing that showed fewer than it counts
HARVESTER_LISTING_LOOKAHEAD = True  # chained listings (OAI-PMH tokens): next page asked while one is read
HARVESTER_DOWNLOAD_FILES = True  # download each document's PDF/scan
HARVESTER_SPOOL_DIR = ""  # local spool for writes the store refused ("" = ~/.cache/archive-harvester/spool)
HARVESTER_SPOOL_COOLDOWN = 30.0  # after a store failure, writes go straight to the spool this long
HARVESTER_S3_RETRY_ATTEMPTS = 6  # tries of one S3 call (throttling, 5xx, connection errors)
HARVESTER_S3_RETRY_SECONDS = 60.0  # no new try of an S3 call starts after this many seconds
HARVESTER_STALE_RUN_SECONDS = 600  # a run whose heartbeat is older is taken as interrupted
HARVESTER_HEARTBEAT_SECONDS = 30  # how often a running run updates its report
HARVESTER_PROGRESS = "auto"  # auto (on a terminal) | on | off
HARVESTER_COVERAGE_MIN_RECORDS = 20  # runs with fewer records are not checked for site changes
HARVESTER_COVERAGE_DROP = 0.5  # a field whose coverage falls below this share of its past level is flagged
HARVESTER_COVERAGE_EXIT = True  # flagged fields end the run with exit 4 (OAI-PMH source: off, reported)
HARVESTER_STORE_THREADS = 16  # threads for store I/O (kept off the reactor thread)
HARVESTER_EXTRACT_WORKERS = "auto"  # processes parsing pages: auto (1 with 2+ cores, else 0) | N | 0 (inline)
HARVESTER_EXTRACT_TIMEOUT = 60.0  # seconds one page may take to parse before its worker is stopped
HARVESTER_STORE_INLINE = True  # local store: I/O on the reactor thread, fsync in groups (False: threads)
HARVESTER_STORE_BATCH_IO = False  # local store: a moment's writes together on a store thread (slow creates)
HARVESTER_PAGE_ITEMS = True  # records that came whole with a listing page: one item a page
HARVESTER_SEEN_BATCH = "auto"  # seen markers many to an object: auto (remote stores: S3) | on | off
HARVESTER_JOURNAL_LINGER = "auto"  # s journal lines wait to share a part: auto (0.025 local, 5.0 S3) | N
HARVESTER_CHECKPOINT_SECONDS = 10.0  # S3: a backfill's cursor and markers are written at most this often

# --- Withdrawn documents (checked at the end of a complete backfill campaign) ----------------
HARVESTER_WITHDRAW_CHECK = True  # check stored records the walk did not meet at their own URL
HARVESTER_WITHDRAW_MAX_SHARE = 0.1  # more than this share of active records gone: withdraw nothing, exit 7

# --- Raw captures (WARC) ----------------------------------------------------------------------
HARVESTER_WARC_ENABLED = True  # capture fetched documents/files as WARC 1.1 in raw/<site>/
# request meta "kind"s captured (or add "listing"); withdraw_check: the 404/410 that withdrew
HARVESTER_WARC_KINDS = ["document", "file", "withdraw_check"]
HARVESTER_WARC_MAX_BYTES = 16 * 1024 * 1024  # roll at this size (a file is read whole to upload it)
HARVESTER_WARC_REVISITS = True  # a payload captured before becomes a revisit record, not a copy
HARVESTER_WARC_GZIP_LEVEL = 6  # zlib level of each record's gzip member (warcio alone uses 9: slow)
HARVESTER_WARC_TMP_DIR = ""  # local folder for the WARC being written ("" = system temp folder)

# --- Distributed (Redis) ------------------------------------------------------------------
# How the crawl is shared: one process (LocalCrawl), or --redis workers (SharedCrawl, set by them)
HARVESTER_CRAWL_STRATEGY = "harvester.spiders.strategy.LocalCrawl"
HARVESTER_REDIS_URL = ""  # redis://HOST:PORT/DB: be a worker of the crawl shared there ("" = alone)
HARVESTER_WORKERS = 1  # local worker processes `harvester harvest --redis URL` starts
HARVESTER_REDIS_JOIN_ONLY = False  # only join a running crawl, never start one (standing worker pools)
HARVESTER_REDIS_PREFIX = "harvester"  # prefix of every Redis key (<prefix>:<site>:...)
HARVESTER_REDIS_HEARTBEAT = 5.0  # seconds between a worker's heartbeats
HARVESTER_REDIS_WORKER_TIMEOUT = 60.0  # a worker silent this long is dead: its in-flight work is lost
HARVESTER_REDIS_IDLE_POLL = 1.0  # seconds between looks at the shared queue while this worker idles
HARVESTER_REDIS_KEY_TTL = 7 * 86400  # an abandoned crawl's keys expire this long after its last heartbeat
HARVESTER_REDIS_DONE_TTL = 3600  # a finished crawl's keys are kept this long (for inspection)

# --- OAI-PMH provider (`harvester serve oai`) and the index the harvest keeps for it ------------
HARVESTER_OAI_INDEX = True  # keep index/oai/ in the store up to date when a run finishes
HARVESTER_OAI_NAMESPACE = "archive-harvester.local"  # identifiers: oai:<namespace>:<source>:<record_id>
HARVESTER_OAI_PAGE_SIZE = 100  # records or headers per ListRecords/ListIdentifiers page
HARVESTER_OAI_REPOSITORY_NAME = "archive-harvester"  # Identify's repositoryName
HARVESTER_OAI_ADMIN_EMAIL = "oai-admin@archive-harvester.local"  # Identify's adminEmail
HARVESTER_OAI_BASE_URL = ""  # Identify's baseURL ("" = from the request's Host, + /oai)
HARVESTER_OAI_TOKEN_SECRET = ""  # HMAC key of resumption tokens ("" = the index's own id)
HARVESTER_OAI_THREADS = 8  # threads of the WSGI server (waitress)
HARVESTER_OAI_INDEX_TTL = 5.0  # seconds the provider reuses the index manifest it read
HARVESTER_OAI_SEGMENT_SIZE = 1000  # index entries per segment object (split at twice that)

# --- OAI-PMH source (`harvester harvest oai --endpoint URL --name NAME`, sources files) --------
HARVESTER_OAI_ENDPOINT = ""  # the repository's base URL (set by --endpoint or the sources file)
HARVESTER_OAI_SETS = ""  # setSpecs to harvest, space-separated ("" = the whole repository)
HARVESTER_OAI_METADATA_PREFIX = "oai_dc"  # metadata format asked for
HARVESTER_OAI_WINDOWS = 16  # a backfill's span is cut into about this many date windows at first
HARVESTER_OAI_WINDOW_RECORDS = 20000  # a window holding more records halves the next one
HARVESTER_OAI_MAX_PAGES = 100000  # pages of one window before the list is taken for endless
HARVESTER_OAI_FILE_HOSTS = ""  # other hosts whose file links are downloaded, space-separated ("*": any)
HARVESTER_OAI_RECONCILE = "auto"  # GetRecord missed records: auto (deletedRecord no/transient), always, never

# --- Metrics of a run (Prometheus, the batch-job way: harvester/extensions/metrics.py) -------
HARVESTER_METRICS_TEXTFILE = ""  # the run's metrics as a textfile for node_exporter (a *.prom path)
HARVESTER_PUSHGATEWAY = ""  # push the run's metrics to this Pushgateway (http://host:9091)
HARVESTER_PUSHGATEWAY_JOB = "archive-harvester"  # the Pushgateway's job label (grouped by site too)
HARVESTER_PUSHGATEWAY_TIMEOUT = 10.0  # seconds a push may take

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "harvester.middlewares.retry_after.BackoffRetryMiddleware": 550,
    "harvester.middlewares.challenge.ChallengeMiddleware": 560,
    "harvester.middlewares.scope.ScopeMiddleware": 650,
}
SPIDER_MIDDLEWARES: dict[str, int] = {}
EXTENSIONS = {
    "scrapy.extensions.throttle.AutoThrottle": None,
    "harvester.extensions.politeness.PoliteThrottle": 0,
    "harvester.extensions.runreport.RunReport": 100,
    "harvester.extensions.progress.Progress": 200,
    "harvester.capture.extension.WarcCapture": 300,  # raw captures (WARC), see HARVESTER_WARC_*
    "harvester.oaiserve.extension.OaiIndexUpdater": 400,  # index/oai/ for `harvester serve oai`
    "harvester.extensions.metrics.RunMetrics": 500,  # HARVESTER_METRICS_TEXTFILE / HARVESTER_PUSHGATEWAY
}
ITEM_PIPELINES = {
    "pipelines.validate.ValidatePipeline": 100,
    "pipelines.dedup.DedupPipeline": 200,
    "pipelines.files.FilesPipeline": 300,
    "pipelines.store.StorePipeline": 400,
}
