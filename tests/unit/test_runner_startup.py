"""harvester.runner's start-up imports: Scrapy's deprecated TLS aliases made without
inspect.stack() reading the source of every frame, and the same aliases as a plain import."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import inspect, json, sys
calls = []
real = inspect.stack
inspect.stack = lambda *a, **k: calls.append(1) or real(*a, **k)[1:]  # its own frame out
if sys.argv[1] == "runner":
    from harvester import runner
    runner.import_deprecating_modules()
import scrapy.core.downloader.contextfactory as c, scrapy.core.downloader.tls as t
names = {"c": ["ScrapyClientContextFactory", "AcceptableProtocolsContextFactory"],
         "t": ["ScrapyClientTLSOptions"]}
mods = {"c": c, "t": t}
print(json.dumps({"aliases": {n: [getattr(mods[m], n).__module__,
                                  issubclass(getattr(mods[m], n), object)]
                              for m in names for n in names[m]},
                  "stack_calls": len(calls), "restored": inspect.stack is not real
                  and inspect.stack.__name__ == "<lambda>"}))
"""


def _probe(mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True,
                         check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_tls_aliases_are_made_without_walking_the_stack_and_are_the_same() -> None:
    plain, ours = _probe("plain"), _probe("runner")
    assert plain["stack_calls"] == 3  # what Scrapy does on a plain import (the cost avoided)
    assert ours["stack_calls"] == 0
    assert ours["aliases"] == plain["aliases"]
    assert ours["aliases"]["ScrapyClientContextFactory"][0] == \
        "scrapy.core.downloader.contextfactory"
    assert ours["restored"]  # inspect.stack is put back (here: the probe's own wrapper)
