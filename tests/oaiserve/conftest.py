"""A store harvested from the sample archive with changes and withdrawals, and the real
`harvester serve oai` command started on it (a child process on loopback)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from serve_support import Harvested, Provider, backfill, provider, stored_records

from harvester.sample import serve_subprocess


@pytest.fixture(scope="session")
def harvested(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harvested]:
    """60 sample documents harvested; then 3 edited and 3 withdrawn (410), harvested again."""
    root = tmp_path_factory.mktemp("oai") / "store"
    env = {"HARVESTER_SPOOL_DIR": str(root.parent / "spool")}
    with serve_subprocess(size=60) as (base_url, control):
        backfill(str(root), base_url, env)
        ids = sorted(stored_records(root))
        edited, withdrawn = ids[10:13], ids[30:33]
        time.sleep(1.1)  # datestamps have seconds granularity
        changed_after = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        time.sleep(1.1)
        for rid in edited:
            control.edit(rid)
        for rid in withdrawn:
            control.withdraw(rid, status=410)
        backfill(str(root), base_url, env)
    yield Harvested(root, changed_after, stored_records(root), edited, withdrawn)


@pytest.fixture(scope="session")
def served(harvested: Harvested) -> Iterator[Provider]:
    """The provider on the harvested store; a small page size, so every list takes several
    resumption tokens."""
    with provider(str(harvested.root), "HARVESTER_OAI_PAGE_SIZE=7") as p:
        yield p
