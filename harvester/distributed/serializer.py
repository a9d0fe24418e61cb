"""JSON serializer of queued requests (the `loads`/`dumps` pair scrapy-redis expects).

scrapy-redis pickles requests by default: anyone who can write to the Redis server could
then run code in every worker. Requests are plain data (Request.to_dict): JSON with bytes
tagged as base64 and bytes-keyed dicts (headers) as pairs carries them exactly.
"""

from __future__ import annotations

import base64
import json
from typing import Any

_BYTES = "$b"
_PAIRS = "$d"


def _encode(obj: Any) -> Any:
    if isinstance(obj, bytes):
        return {_BYTES: base64.b64encode(obj).decode("ascii")}
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj) and not ({_BYTES, _PAIRS} & obj.keys()):
            return {k: _encode(v) for k, v in obj.items()}
        return {_PAIRS: [[_encode(k), _encode(v)] for k, v in obj.items()]}
    if isinstance(obj, list | tuple):
        return [_encode(v) for v in obj]
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    raise TypeError(f"cannot queue a request holding {type(obj).__name__}: {obj!r:.80}")


def _decode(obj: Any) -> Any:
    if isinstance(obj, dict):
        if len(obj) == 1 and _BYTES in obj:
            return base64.b64decode(obj[_BYTES])
        if len(obj) == 1 and _PAIRS in obj:
            return {_decode(k): _decode(v) for k, v in obj[_PAIRS]}
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def dumps(obj: dict[str, Any]) -> bytes:
    return json.dumps(_encode(obj), separators=(",", ":"), sort_keys=True).encode("utf-8")


def loads(data: bytes | str) -> dict[str, Any]:
    value = _decode(json.loads(data))
    if not isinstance(value, dict):
        raise ValueError("a queued request must be a JSON object")
    return value
