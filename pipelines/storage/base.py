"""The storage interface every back-end implements, key checks, and the scheme table.

Keys are POSIX-style relative paths built by `harvester.keys` (e.g.
"records/wilson/114921.json"). A back-end never accepts a key that would
leave its root (local) or prefix (S3): every key goes through `check_key`.

Back-ends:

    open_store("s3://bucket/prefix")   -> S3Store       (pipelines/storage/s3.py)
    open_store("file:///data/harvest") -> LocalStore    (pipelines/storage/local.py)
    open_store("./harvest-data")       -> LocalStore
    SpoolingStore(inner, spool_dir)    -> a Store that spools writes the inner one refused
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from typing import IO, Protocol, runtime_checkable

from harvester.exceptions import UnsafeKey

# S3's limit on key length (UTF-8 bytes); the local store uses the same one.
MAX_KEY_BYTES = 1024

# The local store's temporary folder; no back-end takes keys in it, so all agree.
RESERVED_SEGMENT = ".tmp"

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")

# Content types by key suffix, longest suffix first; used when a caller gives none.
_CONTENT_TYPES: tuple[tuple[str, str], ...] = (
    (".changes.jsonl", "application/x-ndjson"),
    (".warc.gz", "application/warc"),
    (".jsonl", "application/x-ndjson"),
    (".json", "application/json"),
    (".pdf", "application/pdf"),
    (".warc", "application/warc"),
    (".html", "text/html"),
    (".htm", "text/html"),
    (".xml", "application/xml"),
    (".txt", "text/plain"),
    (".jpg", "image/jpeg"),
    (".jpeg", "image/jpeg"),
    (".png", "image/png"),
    (".tif", "image/tiff"),
    (".tiff", "image/tiff"),
)
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@runtime_checkable
class Store(Protocol):
    """Object storage with the five operations the harvester needs.

    Implementations are safe to call from several threads at once.
    """

    uri: str

    def put(
        self, key: str, data: bytes, *, content_type: str | None = None,
        if_absent: bool = False,
    ) -> bool:
        """Write `data` at `key` atomically (no half-written object is ever visible).

        `content_type` defaults to the one `content_type_for(key)` gives.
        With `if_absent=True` the write is create-only: returns False, writing
        nothing, when the key already exists (If-None-Match on S3). Returns True
        when written. Raises UnsafeKey for a bad key, StoreError when the store
        could not be written (after retries).
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


def check_key(key: str) -> str:
    """Return `key` when it is a safe relative object key, else raise UnsafeKey.

    Safe: non-empty "/"-separated segments, none of them "." or "..", no
    leading "/", no backslash, no NUL or other control character, at most
    MAX_KEY_BYTES bytes of UTF-8, not in the reserved top folder ".tmp".
    """
    if not isinstance(key, str) or not key:
        raise UnsafeKey(f"unsafe storage key: {key!r}")
    _check_chars(key)
    if key.startswith("/"):
        raise UnsafeKey(f"unsafe storage key (absolute): {key!r}")
    if key.split("/", 1)[0] == RESERVED_SEGMENT:
        raise UnsafeKey(f"unsafe storage key (reserved folder {RESERVED_SEGMENT}): {key!r}")
    for segment in key.split("/"):
        _check_segment(key, segment)
    return key


def check_prefix(prefix: str) -> str:
    """Return `prefix` when it is a safe listing prefix ("" or the start of a safe key)."""
    if not isinstance(prefix, str):
        raise UnsafeKey(f"unsafe storage prefix: {prefix!r}")
    if not prefix:
        return prefix
    _check_chars(prefix)
    if prefix.startswith("/"):
        raise UnsafeKey(f"unsafe storage prefix (absolute): {prefix!r}")
    segments = prefix.split("/")
    for segment in segments[:-1]:
        _check_segment(prefix, segment)
    if segments[-1] in {".", ".."}:  # a partial last segment may be empty ("records/")
        raise UnsafeKey(f"unsafe storage prefix: {prefix!r}")
    return prefix


def content_type_for(key: str) -> str:
    """The content type the stores use for `key` when the caller gives none."""
    lowered = key.lower()
    for suffix, content_type in _CONTENT_TYPES:
        if lowered.endswith(suffix):
            return content_type
    return DEFAULT_CONTENT_TYPE


def _check_chars(value: str) -> None:
    if _CONTROL_RE.search(value) or "\\" in value:
        raise UnsafeKey(f"unsafe storage key (control character or backslash): {value!r}")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates
        raise UnsafeKey(f"unsafe storage key (not UTF-8): {value!r}") from None
    if size > MAX_KEY_BYTES:
        raise UnsafeKey(f"unsafe storage key (over {MAX_KEY_BYTES} bytes): {value[:60]!r}...")


def _check_segment(value: str, segment: str) -> None:
    if segment in {"", ".", ".."}:
        raise UnsafeKey(f"unsafe storage key (empty, '.' or '..' segment): {value!r}")


def list_any_order(store: Store, prefix: str) -> Iterator[str]:
    """The keys under `prefix`, in whatever order the store gives them fastest: a store
    with `list_unordered` (a local one: no folder's names held and sorted) uses it, any
    other its `list`. For callers that sort or count what they get anyway."""
    unordered = getattr(store, "list_unordered", None)
    return unordered(prefix) if callable(unordered) else store.list(prefix)


def put_file(store: Store, key: str, file: IO[bytes], *, content_type: str | None = None,
             if_absent: bool = False) -> bool:
    """`store.put` of a binary file's whole content: copied from the file by a store that
    can (`put_file`: a local one), else read into memory and put."""
    own = getattr(store, "put_file", None)
    if callable(own):
        return bool(own(key, file, content_type=content_type, if_absent=if_absent))
    file.seek(0)
    return store.put(key, file.read(), content_type=content_type, if_absent=if_absent)


def open_read(store: Store, key: str) -> IO[bytes] | None:
    """The object as a binary file to read (the caller closes it), None when it does not
    exist: read as it is used from a store that can (`open_read`: a local one), else
    fetched whole."""
    own = getattr(store, "open_read", None)
    if callable(own):
        opened: IO[bytes] | None = own(key)
        return opened
    data = store.get(key)
    return None if data is None else io.BytesIO(data)


def delete_all(store: Store, keys: Sequence[str]) -> None:
    """Remove every key: in batches where the store can (`delete_many`: S3's DeleteObjects,
    1,000 keys a request), else one by one. No error for keys already gone."""
    many = getattr(store, "delete_many", None)
    if callable(many):
        many(keys)
        return
    for key in keys:
        store.delete(key)


def open_store(uri: str) -> Store:
    """The back-end for `uri`: `s3://bucket/prefix` or a local path / `file://` URI."""
    if uri.startswith("s3://"):
        from pipelines.storage.s3 import S3Store

        return S3Store.from_uri(uri)
    from pipelines.storage.local import LocalStore

    return LocalStore.from_uri(uri)
