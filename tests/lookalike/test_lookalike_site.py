"""The look-alike itself: it serves what the site notes say, so the campaign tests mean something."""

from __future__ import annotations

import gzip
import re
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest
from lookalike_corpus import Corpus
from lookalike_site import LookalikeSite

NEWEST = "sort_bef_combine=created_DESC&sort_by=created&sort_order=DESC"


def fetch(url: str, method: str = "GET") -> tuple[int, str, dict[str, str]]:
    req = urllib.request.Request(url, method=method, headers={"Accept-Encoding": "gzip"})
    try:
        with urllib.request.urlopen(req) as resp:
            body, status, headers = resp.read(), resp.status, dict(resp.headers)
    except urllib.error.HTTPError as err:
        body, status, headers = err.read(), err.code, dict(err.headers)
    if headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return status, body.decode("utf-8", "replace"), headers


def result_links(page_html: str) -> list[str]:
    table = page_html.split('<table class="table table-hover table-striped', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<a href="(/document/[^"]+)"', table)


def test_slugs_drop_stop_words_and_clash_with_suffixes() -> None:
    corpus = Corpus(60)
    slugs = [d.slug for d in corpus.docs if d.title == "Cable from the Chinese Embassy in Pyongyang"]
    assert slugs[:3] == ["cable-chinese-embassy-pyongyang", "cable-chinese-embassy-pyongyang-0",
                     "cable-chinese-embassy-pyongyang-1"]
    assert len({d.slug for d in corpus.docs}) == 60
    assert len({d.record_id for d in corpus.docs}) == 60


def test_listing_default_order_is_not_newest_first_and_sorting_is_honoured(
        lookalike: Callable[..., LookalikeSite]) -> None:
    site = lookalike(size=120)
    _, default, _ = fetch(f"{site.base_url}/search?page=0&items_per_page=100")
    _, newest, _ = fetch(f"{site.base_url}/search?page=0&items_per_page=100&{NEWEST}")
    by_upload = [d.path for d in sorted(site.corpus.docs, key=lambda d: -d.created)]
    assert result_links(newest) == by_upload[:100]
    assert result_links(default) != by_upload[:100]
    assert "Results: 1 - 100 of 120" in newest
    _, rest, _ = fetch(f"{site.base_url}/search?page=1&items_per_page=100&{NEWEST}")
    assert result_links(rest) == by_upload[100:]
    _, odd, _ = fetch(f"{site.base_url}/search?page=0&items_per_page=37&{NEWEST}")
    assert len(result_links(odd)) == 10  # a value the form does not offer: the default 10
    _, big, _ = fetch(f"{site.base_url}/search?page=0&items_per_page=500&{NEWEST}")
    assert len(result_links(big)) == 100  # more than the most it gives: the most


def test_switches_publish_withdraw_challenge_and_retry_after(
        lookalike: Callable[..., LookalikeSite]) -> None:
    site = lookalike(size=5)
    new = site.publish(2)
    _, newest, _ = fetch(f"{site.base_url}/search?page=0&items_per_page=10&{NEWEST}")
    assert result_links(newest)[:2] == [new[1].path, new[0].path]
    doc = site.corpus.docs[0]
    site.withdraw(doc.record_id, 410)
    assert fetch(site.base_url + doc.path)[0] == 410
    assert fetch(f"{site.base_url}/node/{doc.nid}")[0] == 410
    other = site.corpus.docs[1]
    site.faults[other.path] = ["challenge", "503d"]
    status, body, _ = fetch(site.base_url + other.path)
    assert status == 200 and "triggerInterstitialChallenge()" in body and 'http-equiv="refresh"' in body
    status, _, headers = fetch(site.base_url + other.path)
    assert status == 503 and headers["Retry-After"].endswith("GMT")
    status, body, _ = fetch(site.base_url + other.path)
    assert status == 200 and f'"currentPath":"node\\/{other.nid}"' in body
    assert fetch(f"{site.base_url}/_sec/verify", method="POST")[0] == 200


@pytest.mark.parametrize("markup", ["table", "grid", "dl", "cards"])
def test_every_markup_lists_every_document_once_per_walk(
        lookalike: Callable[..., LookalikeSite], markup: str) -> None:
    site = lookalike(size=30, markup=markup, max_per_page=25)
    seen: set[str] = set()
    for page in (0, 1):
        _, body, _ = fetch(f"{site.base_url}/search?page={page}&items_per_page=100&{NEWEST}")
        main = body.split('<main', 1)[1].split('<div class="paginate"', 1)[0]
        seen |= set(re.findall(r'href="(/(?:document|node)/[^"/]+)"', main))
    expected = {d.path for d in site.corpus.docs} | {f"/node/{d.nid}" for d in site.corpus.docs}
    assert len(seen) == 30 and seen <= expected
