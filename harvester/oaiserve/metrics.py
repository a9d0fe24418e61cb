"""The provider's Prometheus metrics (served at /metrics), in a registry of its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

VERBS = ("Identify", "ListMetadataFormats", "ListSets", "GetRecord", "ListIdentifiers",
         "ListRecords")


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("oai_requests", "OAI-PMH requests by verb ('invalid': none "
                                "of the six)", ["verb"], registry=self.registry)
        self.errors = Counter("oai_errors", "OAI-PMH error answers by error code", ["code"],
                              registry=self.registry)
        self.failures = Counter("oai_failures", "requests answered 500/503 (a store or "
                                "provider failure)", registry=self.registry)
        self.latency = Histogram("oai_request_duration_seconds", "time to answer an OAI-PMH "
                                 "request, by verb", ["verb"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
                                          10))
        for verb in (*VERBS, "invalid"):  # every series present from the start
            self.requests.labels(verb)
            self.latency.labels(verb)

    def observe(self, verb: str, seconds: float) -> None:
        label = verb if verb in VERBS else "invalid"
        self.requests.labels(label).inc()
        self.latency.labels(label).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
