"""The offline sample archive: a deterministic local look-alike of the Wilson Center Digital
Archive, for `harvester demo`, the crawl tests and the benchmarks.

    SampleArchive(size, seed)        content, ground truth (expected_record), publish/edit
    SampleServer(archive, host, port, crawl_delay=, faults=)   HTTP server (context manager)
    serve_subprocess(size, ...)      the server in a child process: yields (base_url, control)
    SampleControl(base_url)          client of the /_sample/ control endpoints
"""

from harvester.sample.control import ControlError, SampleControl
from harvester.sample.corpus import SampleArchive
from harvester.sample.faults import FAULT_KINDS, FaultRule
from harvester.sample.model import LIVE_BASE
from harvester.sample.process import serve_subprocess
from harvester.sample.routes import REQUEST_KINDS
from harvester.sample.server import SampleServer

__all__ = [
    "FAULT_KINDS",
    "LIVE_BASE",
    "REQUEST_KINDS",
    "ControlError",
    "FaultRule",
    "SampleArchive",
    "SampleControl",
    "SampleServer",
    "serve_subprocess",
]
