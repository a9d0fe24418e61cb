"""Downloader middlewares: backoff retries, challenge pages, crawl scope."""
