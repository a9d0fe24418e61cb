"""The plugin source's tests: its folder on PYTHONPATH for the harvester's processes, and
the Redis server of tests/distributed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

_spec = importlib.util.spec_from_file_location("distributed_conftest",
                                               HERE.parent / "distributed" / "conftest.py")
assert _spec is not None and _spec.loader is not None
_distributed = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_distributed)
redis_server = _distributed.redis_server
redis_url = _distributed.redis_url
