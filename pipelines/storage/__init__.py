"""Storage back-ends chosen by URI scheme: a local directory (default) or S3."""

from pipelines.storage.base import Store, open_store

__all__ = ["Store", "open_store"]
