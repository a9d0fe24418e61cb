"""`S3Store`: the store layout under a prefix of an S3 bucket (AWS or any S3-compatible server).

Configuration comes from the standard AWS places: credentials from boto3's
chain (environment, shared files, instance roles), the endpoint of a
non-AWS server from `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_S3` (boto3 reads
them itself). With a custom endpoint, path-style addressing is used, which
every S3-compatible server understands.

Retries: botocore's own retries are off; `tenacity` retries throttling
(SlowDown, 503, 429), other 5xx answers and connection errors/timeouts with
exponential backoff and full jitter, within `RetryPolicy`'s attempts and
time budget, then raises StoreError with a one-line reason (operation,
object, error code or kind; never credentials nor the server's message).

Create-only writes send `If-None-Match: *`; a server that answers 501 /
NotImplemented (or a botocore that does not know the parameter) makes this
store fall back, for its lifetime, to HEAD-then-PUT, which is not atomic.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    IncompleteReadError,
    ParamValidationError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from harvester.exceptions import StoreError, UnsafeKey
from pipelines.storage.base import check_key, check_prefix, content_type_for

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger(__name__)

T = TypeVar("T")

_THROTTLING_CODES = frozenset({
    "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded",
    "TooManyRequestsException", "RequestThrottled", "ServiceUnavailable",
    "InternalError", "RequestTimeout",
})
_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
STREAM_OVER = 8 << 20  # bytes from which put_file sends the file itself, not its bytes
COPY_BLOCK = 1 << 20  # bytes copied at a time by open_read


@dataclass(frozen=True)
class RetryPolicy:
    """How long the store keeps trying a transient failure before raising StoreError."""

    attempts: int = 6  # tries in all, the first one included
    max_seconds: float = 60.0  # no new try would start after this many seconds
    backoff_initial: float = 0.5  # wait before try n is random in [0, initial * 2**n] ...
    backoff_max: float = 10.0  # ... capped at this many seconds


@dataclass(frozen=True)
class S3Options:
    """Client settings; the defaults suit a harvester with a few dozen threads."""

    endpoint_url: str | None = None  # None: boto3's own (AWS_ENDPOINT_URL, config file, AWS)
    region_name: str | None = None  # None: boto3's own (AWS_REGION / AWS_DEFAULT_REGION, config)
    addressing_style: str | None = None  # None: "path" with a custom endpoint, else boto3's
    max_pool_connections: int = 32
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    list_page_size: int = 1000  # keys per ListObjectsV2 request (S3's maximum)
    delete_page_size: int = 1000  # keys per DeleteObjects request (S3's maximum)


class _ConditionalWriteUnsupported(Exception):
    """The server (or botocore) does not take If-None-Match on PUT."""


class S3Store:
    """A Store over `s3://bucket/prefix`; thread safe, the boto3 client is made on first use."""

    def __init__(
        self, bucket: str, prefix: str = "", client: S3Client | None = None, *,
        options: S3Options | None = None, retry: RetryPolicy | None = None,
    ) -> None:
        if not bucket or "/" in bucket:
            raise StoreError(f"bad S3 bucket name: {bucket!r}")
        prefix = prefix.strip("/")
        if prefix:
            try:
                check_key(prefix)
            except UnsafeKey as exc:
                raise StoreError(f"bad S3 prefix {prefix!r}: {exc}") from None
        self.bucket = bucket
        self.prefix = prefix + "/" if prefix else ""
        self.uri = f"s3://{bucket}/{prefix}"
        self.options = options or S3Options()
        self.retry = retry or RetryPolicy()
        self._client = client
        self._lock = threading.Lock()
        self._conditional_writes = True  # until the server says it does not support them

    @classmethod
    def from_uri(
        cls, uri: str, *, options: S3Options | None = None, retry: RetryPolicy | None = None,
    ) -> S3Store:
        """A store for `s3://bucket/prefix` (the prefix may be empty)."""
        parts = urlsplit(uri)
        if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
            raise StoreError(f"not an s3://bucket/prefix URI: {uri!r}")
        return cls(parts.netloc, parts.path, options=options, retry=retry)

    def __repr__(self) -> str:
        return f"S3Store({self.uri!r})"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_client"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def conditional_writes(self) -> bool:
        """False once the server showed it does not support If-None-Match on PUT."""
        return self._conditional_writes

    @property
    def client(self) -> S3Client:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make_client()
                client = self._client
        return client

    def close(self) -> None:
        """Close the client's connections (a later call makes a new client)."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    # The five Store operations.

    def put(
        self, key: str, data: bytes, *, content_type: str | None = None,
        if_absent: bool = False,
    ) -> bool:
        full = self._full_key(key)
        args: dict[str, Any] = {
            "Bucket": self.bucket, "Key": full, "Body": data,
            "ContentType": content_type or content_type_for(key),
        }
        if not if_absent:
            self._call("put", full, lambda: self.client.put_object(**args))
            return True
        if self._conditional_writes:
            try:
                return self._put_if_none_match(full, args)
            except _ConditionalWriteUnsupported:
                self._conditional_writes = False
                log.warning(
                    "%s: the server does not support If-None-Match on PUT; create-only"
                    " writes fall back to HEAD then PUT (not atomic)", self.uri,
                )
        if self.exists(key):
            return False
        self._call("put", full, lambda: self.client.put_object(**args))
        return True

    def put_file(self, key: str, file: IO[bytes], *, content_type: str | None = None,
                 if_absent: bool = False) -> bool:
        """`put` of a binary file's content from its start: one PUT whose body botocore
        reads from the file (rewound for each attempt), not bytes held in memory. A
        create-only write, or a file under STREAM_OVER bytes, goes through `put`."""
        file.seek(0, os.SEEK_END)
        size = file.tell()
        file.seek(0)
        if if_absent or size < STREAM_OVER:
            return self.put(key, file.read(), content_type=content_type, if_absent=if_absent)
        full = self._full_key(key)
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": full,
                                "ContentType": content_type or content_type_for(key),
                                "ContentLength": size}

        def send() -> Any:
            file.seek(0)
            return self.client.put_object(Body=file, **args)

        self._call("put", full, send)
        return True

    def open_read(self, key: str) -> IO[bytes] | None:
        """The object copied into an anonymous temporary file (a block at a time, the
        whole GET retried as `get` is), at its start; None when it does not exist."""
        full = self._full_key(key)

        def fetch() -> IO[bytes] | None:
            response = self._get_object(full)
            if response is None:
                return None
            body = response["Body"]
            out = tempfile.TemporaryFile(prefix="harvester-s3-")  # noqa: SIM115 - returned
            try:
                for block in body.iter_chunks(COPY_BLOCK):
                    out.write(block)
                out.seek(0)
                return out
            except BaseException:
                out.close()
                raise
            finally:
                body.close()

        return self._call("get", full, fetch)

    def get(self, key: str) -> bytes | None:
        full = self._full_key(key)

        def fetch() -> bytes | None:
            response = self._get_object(full)
            if response is None:
                return None
            body = response["Body"]
            try:
                return body.read()
            finally:
                body.close()

        return self._call("get", full, fetch)

    def _get_object(self, full: str) -> Any:
        """One GetObject (its response, the body unread); None when there is no such key."""
        try:
            return self.client.get_object(Bucket=self.bucket, Key=full)
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND_CODES or _status(exc) == 404:
                return None
            raise

    def exists(self, key: str) -> bool:
        full = self._full_key(key)

        def head() -> bool:
            try:
                self.client.head_object(Bucket=self.bucket, Key=full)
            except ClientError as exc:
                if _code(exc) in _NOT_FOUND_CODES or _status(exc) == 404:
                    return False
                raise
            return True

        return self._call("head", full, head)

    def list(self, prefix: str = "") -> Iterator[str]:
        return self._list(prefix, None, None)

    def list_after(self, prefix: str, start_after: str,
                   meta: dict[str, tuple[str, str]] | None = None) -> Iterator[str]:
        """Keys under `prefix` that sort after `start_after`, in lexical order: one listing
        can read two neighbouring folders (harvester/state.py: runs/<site>/ and
        state/<site>/), the caller stopping once it has what it wants. `meta`, when given,
        gets each listed key's (ETag, LastModified as ISO text) from the same listing."""
        return self._list(prefix, start_after, meta)

    def _list(self, prefix: str, start_after: str | None,
              meta: dict[str, tuple[str, str]] | None) -> Iterator[str]:
        check_prefix(prefix)
        full_prefix = self.prefix + prefix
        strip = len(self.prefix)
        token: str | None = None
        while True:
            args: dict[str, Any] = {
                "Bucket": self.bucket, "Prefix": full_prefix,
                "MaxKeys": self.options.list_page_size,
            }
            if token:
                args["ContinuationToken"] = token
            elif start_after is not None:
                args["StartAfter"] = self.prefix + start_after
            page = self._list_page(full_prefix, args)
            for item in page.get("Contents", []):
                if meta is not None:
                    when = item.get("LastModified")
                    meta[item["Key"][strip:]] = (
                        str(item.get("ETag") or "").strip('"'),
                        when.isoformat() if hasattr(when, "isoformat") else str(when or ""))
                yield item["Key"][strip:]
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    def _list_page(self, full_prefix: str, args: dict[str, Any]) -> dict[str, Any]:
        return self._call("list", full_prefix, lambda: dict(self.client.list_objects_v2(**args)))

    def delete(self, key: str) -> None:
        full = self._full_key(key)
        self._call("delete", full, lambda: self.client.delete_object(Bucket=self.bucket, Key=full))

    def delete_many(self, keys: Sequence[str]) -> None:
        """Remove the objects, 1,000 a request (DeleteObjects); no error for missing ones.
        Raises StoreError naming the first key the server refused."""
        fulls = [self._full_key(key) for key in keys]
        size = max(1, min(1000, self.options.delete_page_size))
        for start in range(0, len(fulls), size):
            chunk = fulls[start:start + size]
            request: Any = {"Objects": [{"Key": k} for k in chunk], "Quiet": True}

            def batch(request: Any = request) -> dict[str, Any]:
                return dict(self.client.delete_objects(Bucket=self.bucket, Delete=request))

            answer = self._call("delete", chunk[0], batch)
            errors = [e for e in answer.get("Errors") or []
                      if e.get("Code") not in _NOT_FOUND_CODES]
            if errors:
                first = errors[0]
                raise StoreError(f"S3 delete s3://{self.bucket}/{first.get('Key')} failed: "
                                 f"{first.get('Code') or 'error'}")

    # Helpers.

    def _full_key(self, key: str) -> str:
        check_key(key)
        full = self.prefix + key
        if not full.startswith(self.prefix):  # cannot happen after check_key; kept as a guard
            raise UnsafeKey(f"storage key leaves the prefix: {key!r}")
        return full

    def _put_if_none_match(self, full: str, args: dict[str, Any]) -> bool:
        def attempt() -> bool:
            try:
                self.client.put_object(**args, IfNoneMatch="*")
            except ParamValidationError as exc:
                raise _ConditionalWriteUnsupported() from exc
            except ClientError as exc:
                if _status(exc) == 412 or _code(exc) == "PreconditionFailed":
                    return False
                if _status(exc) == 501 or _code(exc) == "NotImplemented":
                    raise _ConditionalWriteUnsupported() from exc
                raise
            return True

        return self._call("put", full, attempt)

    def _call(self, op: str, full_key: str, fn: Callable[[], T]) -> T:
        """Run `fn` with the retry policy; StoreError with a one-line reason when it fails."""
        policy = self.retry
        retrying = Retrying(
            stop=stop_after_attempt(policy.attempts) | stop_before_delay(policy.max_seconds),
            wait=wait_random_exponential(multiplier=policy.backoff_initial, max=policy.backoff_max),
            retry=retry_if_exception(_is_transient),
            before_sleep=lambda state: self._log_retry(op, full_key, state),
            reraise=True,
        )
        try:
            return retrying(fn)
        except (ClientError, BotoCoreError) as exc:
            attempts = retrying.statistics.get("attempt_number", 1)
            raise StoreError(
                f"S3 {op} s3://{self.bucket}/{full_key} failed after {attempts} attempt(s):"
                f" {_describe(exc)}"
            ) from exc

    def _log_retry(self, op: str, full_key: str, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "S3 %s s3://%s/%s: %s; retrying in %.2fs (attempt %d of %d)",
            op, self.bucket, full_key, _describe(exc), wait, state.attempt_number,
            self.retry.attempts,
        )

    def _make_client(self) -> S3Client:
        opts = self.options
        addressing = opts.addressing_style
        if addressing is None and (
            opts.endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3")
            or os.environ.get("AWS_ENDPOINT_URL")
        ):
            addressing = "path"
        config = Config(
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            max_pool_connections=opts.max_pool_connections,
            connect_timeout=opts.connect_timeout,
            read_timeout=opts.read_timeout,
            retries={"total_max_attempts": 1, "mode": "standard"},
        )
        if addressing:
            s3_options: Any = {"addressing_style": addressing}
            config = config.merge(Config(s3=s3_options))
        session = boto3.session.Session(region_name=opts.region_name)
        return session.client("s3", endpoint_url=opts.endpoint_url, config=config)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, HTTPClientError | BotoConnectionError | IncompleteReadError):
        return True
    if isinstance(exc, ClientError):
        code, status = _code(exc), _status(exc)
        if code in {"ConditionalRequestConflict", "OperationAborted"}:
            return True  # a concurrent write of the same key; AWS says: retry
        return code in _THROTTLING_CODES or status in _TRANSIENT_STATUS
    return False


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _describe(exc: BaseException | None) -> str:
    """What went wrong, in words that cannot carry credentials (no server message, no URL)."""
    if isinstance(exc, ClientError):
        return f"{_code(exc) or 'error'} (HTTP {_status(exc)})"
    if exc is None:
        return "unknown error"
    return type(exc).__name__
