"""S3Store against moto over HTTP: configuration, content types, retries, fallbacks, errors."""

from __future__ import annotations

import logging
import pickle
import re

import pytest
import urllib3.util.connection
from storage_support import FAST_RETRY, FaultyFront, make_s3_store

from harvester.exceptions import StoreError
from pipelines.storage.base import open_store
from pipelines.storage.s3 import RetryPolicy, S3Store

FAKE_KEY_ID = "AKIAFAKEKEY1234567890"
FAKE_SECRET = "s3cr3t-FAKE-do-not-log"


def test_from_uri_parses_bucket_and_prefix() -> None:
    store = S3Store.from_uri("s3://my-bucket/some/prefix/")
    assert (store.bucket, store.prefix, store.uri) == ("my-bucket", "some/prefix/",
                                                       "s3://my-bucket/some/prefix")
    bare = open_store("s3://my-bucket")
    assert isinstance(bare, S3Store)
    assert (bare.bucket, bare.prefix) == ("my-bucket", "")
    for bad in ["s3://", "s3:///prefix", "s3://b/p?x=1", "s3://b/../up"]:
        with pytest.raises(StoreError):
            S3Store.from_uri(bad)


def test_endpoint_comes_from_aws_endpoint_url(moto_s3, monkeypatch) -> None:
    bucket = moto_s3.new_bucket()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_s3.endpoint_url)
    store = S3Store.from_uri(f"s3://{bucket}/env")
    try:
        assert store.client.meta.endpoint_url == moto_s3.endpoint_url
        assert store.put("records/wilson/1.json", b"{}")
    finally:
        store.close()
    assert moto_s3.client.get_object(Bucket=bucket, Key="env/records/wilson/1.json")[
        "Body"].read() == b"{}"


def test_client_config_has_when_required_checksums_and_no_botocore_retries(moto_s3) -> None:
    store = make_s3_store(moto_s3.endpoint_url, "any-bucket")
    try:
        config = store.client.meta.config
        assert config.request_checksum_calculation == "when_required"
        assert config.response_checksum_validation == "when_required"
        assert config.retries["total_max_attempts"] == 1
        assert config.max_pool_connections == 32
        assert config.s3["addressing_style"] == "path"
    finally:
        store.close()


@pytest.mark.parametrize(("key", "expected"), [
    ("records/wilson/1.json", "application/json"),
    ("runs/wilson/20240101T000000Z-abcdef.changes.jsonl", "application/x-ndjson"),
    ("files/wilson/1/scan.pdf", "application/pdf"),
    ("raw/wilson/capture-1.warc.gz", "application/warc"),
    ("quarantine/wilson/abc.html", "text/html"),
    ("state/wilson/seen", "application/octet-stream"),
])
def test_content_type_is_set_on_every_put(moto_s3, key: str, expected: str) -> None:
    bucket = moto_s3.new_bucket()
    store = make_s3_store(moto_s3.endpoint_url, bucket)
    try:
        store.put(key, b"x")
        store.put(key + ".2", b"x", content_type="text/plain; charset=utf-8", if_absent=True)
    finally:
        store.close()
    head = moto_s3.client.head_object(Bucket=bucket, Key="harvest/" + key)
    assert head["ContentType"] == expected
    explicit = moto_s3.client.head_object(Bucket=bucket, Key="harvest/" + key + ".2")
    assert explicit["ContentType"] == "text/plain; charset=utf-8"


def test_create_only_put_sends_if_none_match(moto_s3, faulty_front: FaultyFront) -> None:
    bucket = moto_s3.new_bucket()
    store = make_s3_store(faulty_front.url, bucket)
    try:
        assert store.put("a.json", b"1", if_absent=True)
        assert not store.put("a.json", b"2", if_absent=True)
    finally:
        store.close()
    assert [(m, s) for m, _, s in faulty_front.seen] == [("PUT", 200), ("PUT", 412)]
    assert store.conditional_writes


def test_throttling_is_retried_until_success(moto_s3, faulty_front: FaultyFront, caplog) -> None:
    bucket = moto_s3.new_bucket()
    store = make_s3_store(faulty_front.url, bucket)
    faulty_front.faults = [(503, "SlowDown"), (503, "SlowDown")]
    try:
        with caplog.at_level(logging.WARNING, logger="pipelines.storage.s3"):
            assert store.put("records/wilson/1.json", b"{}") is True
        faulty_front.faults = [(500, "InternalError"), (429, "TooManyRequests")]
        assert store.get("records/wilson/1.json") == b"{}"
        faulty_front.faults = [(503, "SlowDown")]
        assert list(store.list("records/")) == ["records/wilson/1.json"]
    finally:
        store.close()
    statuses = [s for _, _, s in faulty_front.seen]
    assert statuses == [503, 503, 200, 500, 429, 200, 503, 200]
    assert caplog.text.count("S3 put s3://") == 2
    assert caplog.text.count("S3 get s3://") == 2
    assert caplog.text.count("S3 list s3://") == 1
    assert moto_s3.client.get_object(Bucket=bucket, Key="harvest/records/wilson/1.json")[
        "Body"].read() == b"{}"


def test_throttling_past_the_attempts_raises_store_error(moto_s3, faulty_front) -> None:
    bucket = moto_s3.new_bucket()
    store = make_s3_store(faulty_front.url, bucket)
    faulty_front.faults = [(503, "SlowDown")] * 5
    try:
        with pytest.raises(StoreError) as info:
            store.put("records/wilson/1.json", b"{}")
    finally:
        store.close()
    message = str(info.value)
    assert "\n" not in message
    assert message == (f"S3 put s3://{bucket}/harvest/records/wilson/1.json failed after"
                       " 3 attempt(s): SlowDown (HTTP 503)")
    assert len(faulty_front.seen) == 3


def test_client_errors_are_not_retried(moto_s3, faulty_front) -> None:
    store = make_s3_store(faulty_front.url, "no-such-bucket-here")
    faulty_front.faults = [(403, "AccessDenied")]
    try:
        with pytest.raises(StoreError, match=r"1 attempt\(s\): AccessDenied \(HTTP 403\)"):
            store.get("records/wilson/1.json")
        with pytest.raises(StoreError, match="NoSuchBucket"):
            store.put("records/wilson/1.json", b"{}")
    finally:
        store.close()
    assert len(faulty_front.seen) == 2


def _count_connections(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every TCP connection botocore's HTTP client (urllib3) tries to open, by address."""
    tried: list[object] = []
    connect = urllib3.util.connection.create_connection

    def counted(address: object, *args: object, **kwargs: object) -> object:
        tried.append(address)
        return connect(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", counted)
    return tried


def test_refused_connection_raises_store_error_quickly(refused_url, monkeypatch) -> None:
    store = make_s3_store(refused_url, "bucket-x")
    tried = _count_connections(monkeypatch)
    try:
        with pytest.raises(StoreError, match=r"3 attempt\(s\): EndpointConnectionError"):
            store.put("records/wilson/1.json", b"{}")
    finally:
        store.close()
    # quickly: one connection a try, no retries of botocore's own behind the policy's three
    # (whose waits FAST_RETRY caps at 0.02 s)
    assert len(tried) == 3


def test_read_timeout_is_retried_then_raises(silent_url) -> None:
    store = make_s3_store(silent_url, "bucket-x", read_timeout=0.2,
                          retry=RetryPolicy(attempts=2, backoff_initial=0.01, backoff_max=0.01))
    try:
        with pytest.raises(StoreError, match=r"2 attempt\(s\): ReadTimeoutError"):
            store.get("records/wilson/1.json")
    finally:
        store.close()


def test_time_budget_stops_retries_before_the_attempts_run_out(refused_url, monkeypatch) -> None:
    policy = RetryPolicy(attempts=100, max_seconds=0.3, backoff_initial=0.05, backoff_max=0.1)
    store = make_s3_store(refused_url, "bucket-x", retry=policy)
    tried = _count_connections(monkeypatch)
    try:
        with pytest.raises(StoreError) as info:
            store.exists("records/wilson/1.json")
    finally:
        store.close()
    attempts = int(re.search(r"after (\d+) attempt", str(info.value)).group(1))
    # the 0.3 s budget ended it (random waits of up to 0.05-0.1 s between tries): a few
    # tries, one connection each, not the 100 attempts allowed
    assert attempts < 100 and len(tried) == attempts


def test_credentials_never_appear_in_errors_or_logs(
    moto_s3, faulty_front, refused_url, monkeypatch, caplog,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    caplog.set_level(logging.DEBUG, logger="pipelines")
    caplog.set_level(logging.INFO)
    errors: list[StoreError] = []
    for url, faults in [(refused_url, []), (faulty_front.url, [(503, "SlowDown")] * 3),
                        (faulty_front.url, [(403, "InvalidAccessKeyId")])]:
        faulty_front.faults = list(faults)
        store = make_s3_store(url, moto_s3.new_bucket())
        try:
            with pytest.raises(StoreError) as info:
                store.put("records/wilson/1.json", b"{}")
            errors.append(info.value)
        finally:
            store.close()
    assert len(errors) == 3
    assert "retrying" in caplog.text
    for text in [*(str(e) for e in errors), *(repr(e) for e in errors), caplog.text]:
        assert FAKE_KEY_ID not in text
        assert FAKE_SECRET not in text


def test_server_without_conditional_writes_falls_back_to_head_then_put(
    moto_s3, faulty_front, caplog,
) -> None:
    bucket = moto_s3.new_bucket()
    store = make_s3_store(faulty_front.url, bucket)
    faulty_front.reject_if_none_match = True
    try:
        with caplog.at_level(logging.WARNING, logger="pipelines.storage.s3"):
            assert store.put("state/wilson/a", b"first", if_absent=True) is True
            assert store.put("state/wilson/a", b"second", if_absent=True) is False
            assert store.put("state/wilson/b", b"other", if_absent=True) is True
    finally:
        store.close()
    assert not store.conditional_writes
    assert caplog.text.count("does not support If-None-Match") == 1
    assert [(m, s) for m, _, s in faulty_front.seen] == [
        ("PUT", 501), ("HEAD", 404), ("PUT", 200),  # learnt: no more If-None-Match
        ("HEAD", 200),
        ("HEAD", 404), ("PUT", 200),
    ]
    assert moto_s3.client.get_object(Bucket=bucket, Key="harvest/state/wilson/a")[
        "Body"].read() == b"first"


def test_store_pickles_without_its_client(moto_s3) -> None:
    bucket = moto_s3.new_bucket()
    store = make_s3_store(moto_s3.endpoint_url, bucket)
    copy = None
    try:
        store.put("a", b"1")
        copy = pickle.loads(pickle.dumps(store))
        assert copy.get("a") == b"1"
        assert copy.retry == FAST_RETRY
    finally:
        store.close()
        if copy is not None:
            copy.close()
