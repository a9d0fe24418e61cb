"""What differs between S3 servers, on moto's server and on Ceph's RADOS Gateway alike:
create-only writes (If-None-Match), checksums over https, integrity and error answers."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from storage_support import make_s3_store
from tls_front import TlsFront

from harvester.exceptions import StoreError


def test_create_only_writes_are_conditional_on_the_server(s3_server) -> None:
    """If-None-Match: * is honoured (412 on an existing key), so the store never falls back
    to its HEAD-then-PUT (not atomic) and the first object stays."""
    bucket = s3_server.new_bucket()
    store = make_s3_store(s3_server.endpoint_url, bucket)
    try:
        assert store.put("records/wilson/1.json", b"first", if_absent=True) is True
        assert store.put("records/wilson/1.json", b"second", if_absent=True) is False
        assert store.conditional_writes is True
        assert store.get("records/wilson/1.json") == b"first"
    finally:
        store.close()
    with pytest.raises(ClientError) as caught:
        s3_server.client.put_object(Bucket=bucket, Key="harvest/records/wilson/1.json",
                                    Body=b"third", IfNoneMatch="*")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert caught.value.response["Error"]["Code"] == "PreconditionFailed"


def test_store_writes_over_https_where_default_checksums_fail_on_ceph(
    s3_server, tmp_path: Path, monkeypatch, request,
) -> None:
    """Over https botocore streams a CRC32 trailer in an aws-chunked body by default; Ceph 16
    answers 411 MissingContentLength. The store asks for checksums only when required, so its
    writes work over https on both servers."""
    front = TlsFront(s3_server.endpoint_url, tmp_path)
    monkeypatch.setenv("AWS_CA_BUNDLE", str(front.ca_file))
    bucket = s3_server.new_bucket()
    store = make_s3_store(front.url, bucket)
    default = boto3.session.Session().client(
        "s3", endpoint_url=front.url, config=Config(s3={"addressing_style": "path"}))
    try:
        data = bytes(range(256)) * 40
        assert store.put("files/wilson/1/scan.pdf", data) is True
        assert store.get("files/wilson/1/scan.pdf") == data
        assert store.put("files/wilson/1/scan.pdf", b"x", if_absent=True) is False
        assert list(store.list("files/")) == ["files/wilson/1/scan.pdf"]
        if _server(request) == "ceph":
            with pytest.raises(ClientError) as caught:
                default.put_object(Bucket=bucket, Key="default.bin", Body=data)
            assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 411
            assert caught.value.response["Error"]["Code"] == "MissingContentLength"
        else:  # moto takes the streamed checksum
            default.put_object(Bucket=bucket, Key="default.bin", Body=data)
    finally:
        store.close()
        default.close()
        front.close()


def _server(request: pytest.FixtureRequest) -> str:
    return str(request.node.callspec.params["s3_server"])


def test_wrong_content_md5_is_refused_by_ceph_and_taken_by_moto(s3_server, request) -> None:
    """Ceph checks Content-MD5 (400 BadDigest, nothing written); moto's server does not, so
    an integrity test against moto alone proves nothing."""
    bucket = s3_server.new_bucket()
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    if _server(request) == "moto":
        s3_server.client.put_object(Bucket=bucket, Key="k", Body=b"data", ContentMD5=wrong)
        assert s3_server.client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"
        return
    with pytest.raises(ClientError) as caught:
        s3_server.client.put_object(Bucket=bucket, Key="k", Body=b"data", ContentMD5=wrong)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert caught.value.response["Error"]["Code"] == "BadDigest"
    assert "Contents" not in s3_server.client.list_objects_v2(Bucket=bucket)


def test_missing_objects_and_buckets_answer_as_the_store_expects(s3_server) -> None:
    """A missing key reads as None / False; a missing bucket is an error named by its code,
    not retried, and never taken for an empty store."""
    bucket = s3_server.new_bucket()
    store = make_s3_store(s3_server.endpoint_url, bucket)
    gone = make_s3_store(s3_server.endpoint_url, bucket + "-missing")
    try:
        assert store.get("records/wilson/none.json") is None
        assert store.exists("records/wilson/none.json") is False
        assert list(store.list("records/")) == []
        store.delete("records/wilson/none.json")  # no error
        with pytest.raises(StoreError, match=r"NoSuchBucket \(HTTP 404\)"):
            gone.put("records/wilson/1.json", b"{}")
        with pytest.raises(StoreError, match=r"NoSuchBucket \(HTTP 404\)"):
            list(gone.list("records/"))
    finally:
        store.close()
        gone.close()


def test_bad_credentials_fail_fast_with_the_code_and_no_secret(
    s3_server, monkeypatch, request,
) -> None:
    """Ceph checks signatures: a wrong secret is refused at once (403, not retried), and the
    error names the code, never the secret. moto's server takes any signature."""
    bucket = s3_server.new_bucket()
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-do-not-log")
    store = make_s3_store(s3_server.endpoint_url, bucket)
    if _server(request) == "moto":
        try:
            assert store.put("records/wilson/1.json", b"{}") is True
        finally:
            store.close()
        return
    try:
        with pytest.raises(StoreError) as caught:
            store.put("records/wilson/1.json", b"{}")
    finally:
        store.close()
    message = str(caught.value)
    assert "after 1 attempt(s)" in message
    assert "SignatureDoesNotMatch (HTTP 403)" in message
    assert "wrong-secret" not in message
