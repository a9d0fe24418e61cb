"""Property tests (bounded): the extractor and the key builders never fail unexpectedly."""

from __future__ import annotations

import re

from hostile_pages import URL, valid_page
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harvester import keys
from harvester.exceptions import InvalidRecord, NotADocument, UnsafeKey
from harvester.record import finalize
from harvester.sites.wilson import parse_document

PAGE = valid_page()
FAST = settings(
    database=None, max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_page(body: bytes) -> None:
    try:
        record = finalize(
            parse_document(body, URL), site="wilson", harvested_at="2025-01-01T00:00:00Z"
        )
    except (NotADocument, InvalidRecord) as exc:
        assert str(exc)
        return
    keys.record_key("wilson", record["record_id"])


@st.composite
def mutated_pages(draw: st.DrawFn) -> bytes:
    page = bytearray(PAGE)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(page)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        chunk = draw(
            st.binary(min_size=1, max_size=40)
            | st.sampled_from(
                [b"<", b">", b"</div>", b"<div>", b"\x00", b"&", b"<script>", b"\xff", b'"']
            )
        )
        if action == "insert":
            page[at:at] = chunk
        elif action == "delete":
            del page[at : at + len(chunk) * 10]
        elif action == "replace":
            page[at : at + len(chunk)] = chunk
        else:
            del page[at:]
    return bytes(page)


@FAST
@given(mutated_pages())
def test_mutated_pages_give_a_record_or_a_clean_refusal(body):
    check_page(body)


@FAST
@given(st.binary(max_size=4096))
def test_random_bytes_give_a_record_or_a_clean_refusal(body):
    check_page(body)


@FAST
@given(st.text(max_size=300))
def test_record_id_in_the_page_is_always_safe(value):
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").encode("utf-8", "surrogatepass")
    check_page(
        PAGE.replace(b'<div class="text">117029</div>', b'<div class="text">' + escaped + b"</div>")
    )


def assert_safe(key: str, prefix: str) -> None:
    assert key.startswith(prefix)
    assert not key.startswith("/")
    assert ".." not in key.split("/")
    assert not any(part in ("", ".", "..") for part in key.split("/"))
    assert not CONTROL.search(key)


ANY = st.text(max_size=80) | st.sampled_from(
    ["..", "../x", "a/../b", "a\n", "x\x00", "/etc/passwd", ".hidden", "a..b", "ok-1.pdf"]
)


@settings(max_examples=300, deadline=None, database=None)
@given(ANY, ANY, ANY)
def test_key_builders_refuse_or_stay_in_place(site, record_id, name):
    part = keys.id_to_key_part(record_id) if keys.is_record_id(record_id) else record_id
    builders = [
        (lambda: keys.record_key(site, record_id), f"records/{site}/"),
        (lambda: keys.file_key(site, record_id, name), f"files/{site}/{part}/"),
        (lambda: keys.version_key(site, record_id, "a" * 64), f"versions/{site}/{part}/"),
        (lambda: keys.raw_key(site, name), f"raw/{site}/"),
        (lambda: keys.state_key(site, name, record_id), f"state/{site}/"),
        (lambda: keys.quarantine_key(site, name, "json"), f"quarantine/{site}/"),
        (lambda: keys.run_report_key(site, name), f"runs/{site}/"),
    ]
    for build, prefix in builders:
        try:
            key = build()
        except UnsafeKey:
            continue
        assert_safe(key, prefix)
