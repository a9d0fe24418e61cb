"""The storage interface every back-end implements, and the scheme table.

Keys are POSIX-style relative paths built by `harvester.keys` (e.g.
"records/wilson/114921.json"). A back-end never accepts a key that would
leave its root (local) or prefix (S3).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable


@runtime_checkable
class Store(Protocol):
    """Object storage with the five operations the harvester needs."""

    uri: str

    def put(
        self, key: str, data: bytes, *, content_type: str = "application/octet-stream",
        if_absent: bool = False,
    ) -> bool:
        """Write `data` at `key` atomically (no half-written object is ever visible).

        With `if_absent=True` the write is create-only: returns False, writing
        nothing, when the key already exists (If-None-Match on S3). Returns True
        when written.
        """
        ...

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when it does not exist."""
        ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> Iterator[str]:
        """Keys under `prefix` (a key prefix, e.g. "records/wilson/"), in lexical order."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; no error when it is missing."""
        ...


def open_store(uri: str) -> Store:
    """The back-end for `uri`: `s3://bucket/prefix` or a local path / `file://` URI."""
    if uri.startswith("s3://"):
        from pipelines.storage.s3 import S3Store

        return S3Store.from_uri(uri)
    from pipelines.storage.local import LocalStore

    return LocalStore.from_uri(uri)
