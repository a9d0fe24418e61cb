"""A throwaway Ceph cluster with its RADOS Gateway (a real S3 server), on loopback.

    with CephRGW.start() as rgw:          # ~1.5 s; raises CephUnavailable when it cannot
        rgw.endpoint_url                  # http://127.0.0.1:PORT
        rgw.new_bucket("test")            # a fresh bucket
        rgw.env                           # AWS_* variables a subprocess needs

One `ceph-mon`, one `ceph-osd` keeping its objects in memory (`memstore`), pools of size
one, and `radosgw` with the beast frontend, all bound to 127.0.0.1, all their files
(configuration, monitor store, logs, sockets) in one temporary directory removed at the
end. No systemd, no disk device, no authentication (`auth ... = none`). The daemons are
the Debian packages `ceph-mon ceph-osd radosgw ceph-common` (`.ci/ceph.sh` installs them).

The settings that matter, each one a pitfall seen on these machines (see
/work/shared/notes/real-services.md): `ms mon client mode = crc` (else radosgw never
reaches the monitor without auth), `tcp_nodelay=1` on the frontend (else every GetObject
waits ~40 ms for Nagle and delayed ACKs), short paxos intervals (else pool creation takes
~12 s).

Used by tests (the `ceph_rgw` session fixture in tests/conftest.py) and by bench/.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DAEMONS = ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "monmaptool", "ceph-authtool",
           "ceph")
ACCESS_KEY = "AKIACEPHTEST00000000"
SECRET_KEY = "ceph-test-secret-not-real"

_CONF = """\
[global]
fsid = {fsid}
mon host = 127.0.0.1:{mon_port}
mon initial members = a
public addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon allow pool delete = true
osd crush chooseleaf type = 0
osd objectstore = memstore
memstore device bytes = {memstore_bytes}
paxos propose interval = 0.05
paxos min wait = 0.01
run dir = {root}/run
admin socket = {root}/run/$name.asok
pid file = {root}/run/$name.pid
log file = {root}/log/$name.log
mon data = {root}/mon/$id
osd data = {root}/osd/$id
keyring = {root}/keyring
[client]
ms mon client mode = crc
rgw frontends = beast endpoint=127.0.0.1:{rgw_port} tcp_nodelay=1
rgw data = {root}/rgw
rgw dns name = 127.0.0.1
"""


class CephUnavailable(RuntimeError):
    """Ceph's daemons are not installed, or the cluster did not come up (the reason)."""


def missing_daemons() -> list[str]:
    """The Ceph programs this machine lacks (empty when all are installed)."""
    return [name for name in DAEMONS if shutil.which(name) is None]


def _die_with_parent() -> None:
    """In the daemon's child, before exec: SIGKILL when the thread that started it ends
    (a test run killed before its teardown leaves no cluster behind). Linux only."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class CephRGW:
    """A running cluster; `start()` makes one, `close()` (or the `with` block) ends it."""

    root: Path
    endpoint_url: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = "us-east-1"
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list, repr=False)
    _names: Iterator[int] = field(default_factory=itertools.count, repr=False)
    _client: Any = field(default=None, repr=False)

    @classmethod
    @contextlib.contextmanager
    def start(cls, *, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY,
              memstore_mb: int = 2048, timeout: float = 60.0) -> Iterator[CephRGW]:
        """Start a cluster in a fresh temporary directory; everything is removed after.
        Its S3 user holds `access_key` / `secret_key`."""
        lacking = missing_daemons()
        if lacking:
            raise CephUnavailable(f"not installed: {', '.join(lacking)} (run .ci/ceph.sh, or "
                                  "apt-get install ceph-mon ceph-osd radosgw ceph-common)")
        root = Path(tempfile.mkdtemp(prefix="ceph-rgw-"))
        rgw = cls(root, "", access_key=access_key, secret_key=secret_key)
        try:
            rgw._boot(memstore_mb, timeout)
            yield rgw
        finally:
            rgw.close()
            shutil.rmtree(root, ignore_errors=True)

    # --- the cluster --------------------------------------------------------------------
    def _boot(self, memstore_mb: int, timeout: float) -> None:
        root = self.root
        for sub in ("mon/a", "osd/0", "run", "log", "rgw"):
            (root / sub).mkdir(parents=True)
        fsid = str(uuid.uuid4())
        mon_port, rgw_port = _free_port(), _free_port()
        conf = root / "ceph.conf"
        conf.write_text(_CONF.format(fsid=fsid, mon_port=mon_port, rgw_port=rgw_port,
                                     root=root, memstore_bytes=memstore_mb * 1024 * 1024))
        deadline = time.monotonic() + timeout
        self._run("ceph-authtool", "--create-keyring", str(root / "keyring"), "--gen-key",
                  "-n", "mon.", "--cap", "mon", "allow *", conf=False)
        self._run("monmaptool", "--create", "--add", "a", f"127.0.0.1:{mon_port}",
                  "--fsid", fsid, str(root / "monmap"), conf=False)
        self._run("ceph-mon", "--mkfs", "-i", "a", "--monmap", str(root / "monmap"))
        self._spawn("ceph-mon", "-i", "a")
        self._run("ceph", "--connect-timeout", str(int(timeout)), "osd", "create")
        self._run("ceph-osd", "-i", "0", "--mkfs")
        self._spawn("ceph-osd", "-i", "0")
        self._spawn("radosgw", "-n", "client.rgw.a")
        self.endpoint_url = f"http://127.0.0.1:{rgw_port}"
        self._wait_http(deadline)
        self._run("radosgw-admin", "user", "create", "--uid", "harvester-test",
                  "--display-name", "harvester tests", "--access-key", self.access_key,
                  "--secret", self.secret_key)

    def _cmd(self, program: str, args: tuple[str, ...], conf: bool) -> list[str]:
        return [program, *(["-c", str(self.root / "ceph.conf")] if conf else []), *args]

    def _run(self, program: str, *args: str, conf: bool = True) -> str:
        cmd = self._cmd(program, args, conf)
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=60, check=False)
        except subprocess.TimeoutExpired:
            raise CephUnavailable(f"{program} did not finish in 60 s") from None
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).decode("utf-8", "replace").strip()[-400:]
            raise CephUnavailable(f"{program} {' '.join(args[:2])} failed "
                                  f"({done.returncode}): {tail}")
        return done.stdout.decode("utf-8", "replace")

    def _spawn(self, program: str, *args: str) -> None:
        log = open(self.root / "log" / f"{program}.out", "wb")  # noqa: SIM115 - the daemon's
        try:
            proc = subprocess.Popen(self._cmd(program, ("-f", *args), True), stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, preexec_fn=_die_with_parent)
        finally:
            log.close()
        self._procs.append(proc)

    def _wait_http(self, deadline: float) -> None:
        while True:
            for proc in self._procs:
                if proc.poll() is not None:
                    raise CephUnavailable(f"{proc.args[0]} exited ({proc.returncode}): "
                                          f"{self._log_tail(str(proc.args[0]))}")
            try:
                urllib.request.urlopen(self.endpoint_url + "/", timeout=2).close()
                return
            except urllib.error.HTTPError:
                return  # any S3 answer (403 and the like): the gateway serves
            except OSError:
                if time.monotonic() > deadline:
                    raise CephUnavailable("radosgw did not answer in time: "
                                          f"{self._log_tail('radosgw')}") from None
                time.sleep(0.1)

    def _log_tail(self, program: str) -> str:
        try:
            text = (self.root / "log" / f"{program}.out").read_text("utf-8", "replace")
        except OSError:
            return ""
        return text.strip()[-300:]

    def close(self) -> None:
        """Stop the daemons (SIGKILL: the cluster is thrown away) and close the client."""
        if self._client is not None:
            self._client.close()
            self._client = None
        for proc in reversed(self._procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
        self._procs.clear()

    # --- for tests and benchmarks -------------------------------------------------------
    @property
    def env(self) -> dict[str, str]:
        """What a process needs to reach this gateway with boto3 (AWS_ENDPOINT_URL included)."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_ENDPOINT_URL": self.endpoint_url,
        }

    @property
    def client(self) -> Any:
        """A boto3 S3 client of the gateway (made on first use)."""
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.session.Session().client(
                "s3", endpoint_url=self.endpoint_url, aws_access_key_id=self.access_key,
                aws_secret_access_key=self.secret_key, region_name=self.region,
                config=Config(s3={"addressing_style": "path"},
                              request_checksum_calculation="when_required",
                              response_checksum_validation="when_required"))
        return self._client

    def new_bucket(self, prefix: str = "test") -> str:
        """Create a fresh, empty bucket and return its name."""
        name = f"{prefix}-{os.getpid()}-{next(self._names)}"
        self.client.create_bucket(Bucket=name)
        return name
