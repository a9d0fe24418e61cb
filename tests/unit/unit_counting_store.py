"""A local store that counts its calls by operation and key, for the unit tests of the
state's request counts (seen batches, checkpoints)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipelines.storage.local import LocalStore


class CountingStore(LocalStore):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.calls: list[tuple[str, str]] = []

    def get(self, key: str) -> bytes | None:
        self.calls.append(("get", key))
        return super().get(key)

    def put(self, key: str, data: bytes, **kwargs: Any) -> bool:
        self.calls.append(("put", key))
        return super().put(key, data, **kwargs)

    def list(self, prefix: str = "") -> Any:
        self.calls.append(("list", prefix))
        return super().list(prefix)

    def delete(self, key: str) -> None:
        self.calls.append(("delete", key))
        super().delete(key)

    def ops(self, op: str, prefix: str = "") -> list[str]:
        return [k for o, k in self.calls if o == op and k.startswith(prefix)]
