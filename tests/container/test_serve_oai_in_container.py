"""`harvester serve oai` from the image: the store a harvest wrote into S3 (moto's server)
served as an OAI-PMH 2.0 repository, answering a real client (Sickle), its /metrics
counting what it answered, and stopped cleanly by `docker stop`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest
from container_support import Container
from prometheus_client.parser import text_string_to_metric_families
from sickle import Sickle

from harvester.sample import serve_subprocess

# the first test also waits for the image's build (a fresh machine: debootstrap, wheels)
pytestmark = [pytest.mark.container, pytest.mark.timeout(900)]

AWS = {"AWS_ACCESS_KEY_ID": "AKIATESTKEY000000000", "AWS_SECRET_ACCESS_KEY": "test-secret-not-real",
       "AWS_DEFAULT_REGION": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, container: Container, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert container.proc is not None and container.proc.poll() is None, container.wait(5)
        try:
            with urllib.request.urlopen(url + "?verb=Identify", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"the provider did not answer in {timeout} s")


def test_serve_oai_from_the_image_answers_a_client(image: str, moto_s3: Any, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bucket = moto_s3.new_bucket("oai")
    store = f"s3://{bucket}/da"
    with serve_subprocess(size=15) as (base_url, _control):
        env = dict(os.environ, AWS_ENDPOINT_URL=moto_s3.endpoint_url, **AWS,
                   HARVESTER_SPOOL_DIR=str(tmp_path / "spool"))
        harvest = subprocess.run(
            [sys.executable, "-m", "harvester.cli", "harvest", "wilson", "--store", store,
             "--base-url", base_url, "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
             "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4"],
            capture_output=True, text=True, timeout=240, env=env)
        assert harvest.returncode == 0, harvest.stderr[-3000:]
    titles = {}
    for page in moto_s3.client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix="da/records/wilson/"):
        for obj in page.get("Contents", []):
            record = json.loads(moto_s3.client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
            titles[f"oai:archive-harvester.local:wilson:{record['record_id']}"] = record["title"]
    assert len(titles) == 15

    port = _free_port()
    provider = Container(["serve", "oai", "--store", store, "--host", "127.0.0.1",
                          "--port", str(port)],
                         {"AWS_ENDPOINT_URL": moto_s3.endpoint_url, **AWS}).start()
    url = f"http://127.0.0.1:{port}/oai"
    try:
        _wait_ready(url, provider)
        got = {r.header.identifier: r.metadata["title"]
               for r in Sickle(url).ListRecords(metadataPrefix="oai_dc")}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            metrics = {(s.name, tuple(sorted(s.labels.items()))): s.value
                       for f in text_string_to_metric_families(answer.read().decode())
                       for s in f.samples}
        code, _out, err = provider.stop()
    finally:
        provider.remove()
    assert got == {identifier: [title] for identifier, title in titles.items()}
    assert metrics[("oai_requests_total", (("verb", "ListRecords"),))] == 1
    assert metrics[("oai_request_duration_seconds_count", (("verb", "ListRecords"),))] == 1
    assert metrics[("oai_requests_total", (("verb", "Identify"),))] >= 1
    assert code == 0, err[-2000:]  # docker stop: SIGTERM ends it cleanly
    assert "OAI-PMH 2.0 at http://127.0.0.1:" in err
