"""Drupal pathauto-like slugs: lower-cased title, stop-words dropped, hyphenated, cut near 90."""

from __future__ import annotations

import re
import unicodedata

STOP_WORDS = frozenset({
    "a", "an", "as", "at", "before", "but", "by", "for", "from", "is", "in", "into", "like",
    "of", "off", "on", "onto", "per", "since", "than", "the", "this", "that", "to", "up", "via",
    "with", "and", "or",
})
MAX_LENGTH = 90
_SPECIAL = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "đ": "d"})
_NON_WORD = re.compile(r"[^a-z0-9]+")


def base_slug(title: str) -> str:
    """The slug of a title before clash suffixes."""
    ascii_title = (
        unicodedata.normalize("NFKD", title.translate(_SPECIAL)).encode("ascii", "ignore").decode()
    )
    words = [w for w in _NON_WORD.split(ascii_title.lower().replace("'", "")) if w]
    kept = [w for w in words if w not in STOP_WORDS] or words or ["document"]
    slug = ""
    for word in kept:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > MAX_LENGTH:
            break
        slug = candidate
    return slug or kept[0][:MAX_LENGTH]


def with_suffix(base: str, clash: int) -> str:
    """The n-th clash of a slug: the first holder keeps the slug, later ones get -0, -1 ..."""
    return base if clash == 0 else f"{base}-{clash - 1}"
