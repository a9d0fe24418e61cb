"""A third OAI-PMH repository no one on the team wrote: django-oai-pmh 0.3.9 (PyPI), a Django
app, over a sqlite database, served on loopback by the stdlib's wsgiref (threaded).

Django's settings are process-global, so the pytest process never imports Django: the
repository lives in subprocesses of this file run as a script with the same Python
(`python django_repository.py migrate|populate|mutate|serve`), with a settings module
written into the repository's own directory. The test side (`DjangoRepository`) starts them,
and reads the server's truth straight from its sqlite database (stdlib sqlite3).

What the package is (0.3.9), and how the records are made to fit it:
- its DCRecord model uses Postgres ArrayFields (fails on sqlite): records are XMLRecord rows
  holding their oai_dc XML;
- a Header's timestamp is auto_now (every save writes "now"): populated datestamps are set
  by an SQL UPDATE afterwards; mutations through the ORM are stamped "now", as in real use;
- a set matches its spec exactly (no hierarchy): each record is given its ancestor sets too;
- Identify's earliestDatestamp is hard-coded (2015-07-02T00:00:00Z): some records are older;
- it refuses an `until` without `from` (badArgument), its token pages drop the set, and its
  token pages list from the window's `until` on (`timestamp__gte=until`)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EARLIEST = "2015-07-02T00:00:00Z"  # django_oai_pmh/templates/django_oai_pmh/identify.xml
BULK_SECOND = "2020-06-15 10:00:00"  # a bulk load: many records share this second
SETS = [("coll", "Collections"), ("coll:maps", "Maps"), ("coll:maps:city", "City maps"),
        ("coll:letters", "Letters"), ("photos", "Photographs")]
LEAVES = ["coll", "coll:maps", "coll:maps:city", "coll:letters", "photos", "coll:maps", None]
PREFIX = "oai:django.test:"
DC = "http://purl.org/dc/elements/1.1/"

SETTINGS = '''\
import os
SECRET_KEY = "not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django_oai_pmh"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": %(db)r}}
ROOT_URLCONF = "djurls"
USE_TZ = True
TIME_ZONE = "UTC"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
ADMINS = [("admin", "admin@django.test")]
OAI_PMH = {"REPOSITORY_NAME": "django-oai-pmh repository", "NUM_PER_PAGE": %(page_size)d,
           "BASE_URL": "http://127.0.0.1:%%s/oai/" %% os.environ.get("DJ_PORT", "0")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
MIDDLEWARE = []
LOGGING = {"version": 1, "disable_existing_loggers": True}
'''
URLS = '''\
from django.urls import include, path
urlpatterns = [path("oai/", include("django_oai_pmh.urls"))]
'''


# --- shared by both sides: what a record holds ---------------------------------------------

def record_fields(number: int, title: str) -> dict[str, list[str]]:
    """Every record (populated or added) has the same fields, so none is 'missing' one."""
    creators = [f"Creator {k}" for k in sorted({(number * 7 + j * 13) % 41 + 1
                                               for j in range(1 + number % 2)})]
    subjects = [f"Subject {k}" for k in sorted({(number * 3 + j * 11) % 29 + 1
                                               for j in range(1 + number % 3)})]
    return {"title": [title], "creator": creators, "subject": subjects,
            "description": [f"Description of item {number}"],
            "date": [f"{1850 + number % 150}-{number % 12 + 1:02d}-{number % 28 + 1:02d}"],
            "type": ["Text"], "identifier": [f"http://example.org/item/{number}"],
            "language": ["en"], "rights": ["CC-BY 4.0"]}


def specs_of(leaves: list[str | None]) -> list[str]:
    """The leaves' specs and every ancestor of each (the package matches specs exactly)."""
    out: set[str] = set()
    for leaf in leaves:
        if leaf:
            parts = leaf.split(":")
            out |= {":".join(parts[:k]) for k in range(1, len(parts) + 1)}
    return sorted(out)


# --- the server side (run as a script, Django imported there only) -------------------------

def _dc_xml(fields: dict[str, list[str]]) -> str:
    from xml.sax.saxutils import escape
    order = ["title", "creator", "subject", "description", "date", "type", "identifier",
             "language", "rights"]
    body = "".join(f"<dc:{name}>{escape(v)}</dc:{name}>" for name in order
                   for v in fields.get(name, []))
    return ('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
            f'xmlns:dc="{DC}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/oai_dc/ '
            f'http://www.openarchives.org/OAI/2.0/oai_dc.xsd">{body}</oai_dc:dc>')


def _setup() -> Any:
    import django
    django.setup()
    from django_oai_pmh import models
    return models


def _stamp(i: int) -> str:
    """Datestamps over 2013-2025: a bulk second, some before earliestDatestamp."""
    import random
    from datetime import UTC, datetime, timedelta
    rnd = random.Random(i)
    if i % 9 == 4:
        return BULK_SECOND
    if i % 13 == 6:  # before Identify's earliestDatestamp (2015-07-02)
        at = datetime(2013, 1, 1, tzinfo=UTC) + timedelta(seconds=rnd.randint(0, 78_000_000))
    else:
        start = datetime(2015, 7, 2, tzinfo=UTC).timestamp()
        end = datetime(2025, 12, 31, tzinfo=UTC).timestamp()
        at = datetime.fromtimestamp(int(rnd.uniform(start, end)), UTC)
    return at.strftime("%Y-%m-%d %H:%M:%S")


def _populate(n: int) -> None:
    models = _setup()
    from django.db import connection, transaction
    with transaction.atomic():
        fmt = models.MetadataFormat.objects.get(prefix="oai_dc")  # made by a migration
        sets = {spec: models.Set.objects.create(spec=spec, name=name) for spec, name in SETS}
        headers = models.Header.objects.bulk_create(
            [models.Header(identifier=f"{PREFIX}rec-{i:05d}") for i in range(n)])
        formats, members = models.Header.metadata_formats.through, models.Header.sets.through
        formats.objects.bulk_create([formats(header_id=h.pk, metadataformat_id=fmt.pk)
                                     for h in headers])
        links, xml, stamps = [], [], []
        for i, h in enumerate(headers):
            leaves = [LEAVES[i % len(LEAVES)]] + (["photos"] if i % 10 == 3 else [])
            links += [members(header_id=h.pk, set_id=sets[s].pk) for s in specs_of(leaves)]
            xml.append(models.XMLRecord(header=h, metadata_prefix=fmt, xml_metadata=_dc_xml(
                record_fields(i, f"Record {i}"))))
            stamps.append((_stamp(i), i % 23 == 11, h.pk))
        members.objects.bulk_create(links)
        models.XMLRecord.objects.bulk_create(xml)
        with connection.cursor() as cursor:  # after auto_now: the datestamps wanted
            cursor.executemany("UPDATE django_oai_pmh_header SET timestamp=%s, deleted=%s "
                               "WHERE id=%s", stamps)


def _mutate(tag: str, add: int, edit: int, delete: int) -> None:
    """Through the ORM, as an application would: every change stamped "now" (auto_now)."""
    import random
    models = _setup()
    fmt = models.MetadataFormat.objects.get(prefix="oai_dc")
    sets = {s.spec: s for s in models.Set.objects.all()}
    out: dict[str, list[str]] = {"added": [], "edited": [], "deleted": []}
    base = 100_000 + models.Header.objects.count()
    for k in range(add):
        h = models.Header.objects.create(identifier=f"{PREFIX}new-{tag}-{k:03d}")
        h.metadata_formats.add(fmt)
        h.sets.add(*(sets[s] for s in specs_of([LEAVES[k % len(LEAVES)]])))
        models.XMLRecord.objects.create(header=h, metadata_prefix=fmt, xml_metadata=_dc_xml(
            record_fields(base + k, f"New {tag} {k}")))
        out["added"].append(h.identifier)
    active = list(models.Header.objects.filter(deleted=False, identifier__contains=":rec-")
                  .order_by("identifier"))
    picked = random.Random(tag).sample(active, edit + delete)
    for h in picked[:edit]:
        xr = h.xmlrecords.get()
        xr.xml_metadata = xr.xml_metadata.replace("</dc:title>", f" (edited {tag})</dc:title>", 1)
        xr.save()
        h.save()  # auto_now: the header's datestamp is now
        out["edited"].append(h.identifier)
    for h in picked[edit:]:
        h.deleted = True
        h.save()
        out["deleted"].append(h.identifier)
    print(json.dumps(out))


def _serve(log: str, until_alone: bool = False) -> None:
    import socketserver
    import threading
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class Server(socketserver.ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    httpd = make_server("127.0.0.1", 0, lambda e, s: [], server_class=Server,
                        handler_class=Quiet)
    os.environ["DJ_PORT"] = str(httpd.server_port)  # the settings' BASE_URL
    _setup()
    if until_alone:
        _accept_until_alone()
    from django.core.wsgi import get_wsgi_application
    app, lock = get_wsgi_application(), threading.Lock()

    def logged(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/oai/":
            query = environ.get("QUERY_STRING", "")
            if environ.get("REQUEST_METHOD") == "POST":
                size = int(environ.get("CONTENT_LENGTH") or 0)
                body = environ["wsgi.input"].read(size)
                query = body.decode("utf-8", "replace")
                import io
                environ["wsgi.input"] = io.BytesIO(body)
            with lock, open(log, "a", encoding="utf-8") as f:
                f.write(query + "\n")
        return app(environ, start_response)

    httpd.set_app(logged)
    print(httpd.server_port, flush=True)
    httpd.serve_forever()


def _accept_until_alone() -> None:
    """The package with one fix: an `until` without `from` is read (as from the year 1900)
    instead of refused, so a harvest's date windows reach its token pages."""
    from django_oai_pmh import views
    original = views._check_timestamps

    def lenient(params: Any, errors: list[Any]) -> Any:
        if "until" in params and "from" not in params:
            params["from"] = "1900-01-01T00:00:00Z" if "T" in params["until"] else "1900-01-01"
        return original(params, errors)

    views._check_timestamps = lenient


def main(argv: list[str]) -> None:
    command, args = argv[0], argv[1:]
    if command == "migrate":
        _setup()
        from django.core.management import call_command
        call_command("migrate", verbosity=0)
    elif command == "populate":
        _populate(int(args[0]))
    elif command == "mutate":
        _mutate(args[0], *map(int, args[1:4]))
    elif command == "serve":
        _serve(args[0], until_alone="--until-alone" in args[1:])
    else:
        raise SystemExit(f"unknown command {command}")


# --- the test side -------------------------------------------------------------------------

@dataclass
class Truth:
    identifier: str
    datestamp: str  # as the repository writes it: YYYY-MM-DDThh:mm:ssZ
    deleted: bool
    sets: list[str] = field(default_factory=list)
    title: str | None = None
    creators: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)


class DjangoRepository:
    """django-oai-pmh 0.3.9 on 127.0.0.1: `with DjangoRepository(root, records=N) as repo:`,
    `repo.url` its endpoint; `repo.mutate(...)` changes it, `repo.truth()` is what it holds,
    `repo.requests()` the OAI requests it was sent (query dicts). until_alone=True: the
    package with one fix (an `until` without `from` read, not refused)."""

    def __init__(self, root: Path, records: int = 450, page_size: int = 50,
                 until_alone: bool = False) -> None:
        self.until_alone = until_alone
        self.root = Path(root)
        self.db = self.root / "oai.sqlite3"
        self.log = self.root / "requests.log"
        self.records = records
        self.page_size = page_size
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def _env(self) -> dict[str, str]:
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="djsettings")
        env["PYTHONPATH"] = str(self.root) + os.pathsep + env.get("PYTHONPATH", "")
        return env

    def _run(self, *args: str) -> str:
        proc = subprocess.run([sys.executable, __file__, *args], capture_output=True,
                              text=True, env=self._env(), cwd=self.root, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {proc.stderr[-3000:]}")
        return proc.stdout

    def __enter__(self) -> DjangoRepository:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "djsettings.py").write_text(
            SETTINGS % {"db": str(self.db), "page_size": self.page_size}, "utf-8")
        (self.root / "djurls.py").write_text(URLS, "utf-8")
        self._run("migrate")
        self._run("populate", str(self.records))
        errors = open(self.root / "server.stderr", "w", encoding="utf-8")  # noqa: SIM115
        self.proc = subprocess.Popen([sys.executable, __file__, "serve", str(self.log),
                                      *(["--until-alone"] if self.until_alone else [])],
                                     stdout=subprocess.PIPE, stderr=errors, text=True,
                                     env=self._env(), cwd=self.root)
        errors.close()
        try:
            assert self.proc.stdout is not None
            port = self.proc.stdout.readline().strip()
            if not port.isdigit():
                raise RuntimeError("the server did not start: "
                                   + (self.root / "server.stderr").read_text("utf-8")[-3000:])
            self.url = f"http://127.0.0.1:{port}/oai/"
            self._wait_identify()
        except BaseException:
            self.__exit__()
            raise
        self.log.write_text("", "utf-8")  # Identify of the wait is not the tests'
        return self

    def _wait_identify(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url + "?verb=Identify", timeout=5) as r:
                    if b"<Identify>" in r.read():
                        return
            except OSError:
                pass
            if time.monotonic() > deadline or (self.proc and self.proc.poll() is not None):
                raise RuntimeError("the server never answered Identify")
            time.sleep(0.1)

    def __exit__(self, *exc: Any) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None

    def mutate(self, tag: str, add: int = 0, edit: int = 0, delete: int = 0) -> dict[str, list[str]]:
        """Add, edit (title), delete records through the ORM: {added, edited, deleted} ids."""
        return json.loads(self._run("mutate", tag, str(add), str(edit), str(delete)))

    def requests(self) -> list[dict[str, str]]:
        from urllib.parse import parse_qsl
        if not self.log.exists():
            return []
        return [dict(parse_qsl(line)) for line in self.log.read_text("utf-8").splitlines()]

    def clear_requests(self) -> None:
        self.log.write_text("", "utf-8")

    def truth(self) -> dict[str, Truth]:
        """Every header of the database, with its sets, title, creators and subjects."""
        by_pk: dict[int, Truth] = {}
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as db:
            for pk, identifier, stamp, deleted, xml in db.execute(
                    "SELECT h.id, h.identifier, h.timestamp, h.deleted, x.xml_metadata "
                    "FROM django_oai_pmh_header h "
                    "LEFT JOIN django_oai_pmh_xmlrecord x ON x.header_id = h.id"):
                t = Truth(identifier, stamp[:19].replace(" ", "T") + "Z", bool(deleted))
                if xml:
                    md = ET.fromstring(xml)
                    t.title = md.findtext(f"{{{DC}}}title")
                    t.creators = [e.text or "" for e in md.iter(f"{{{DC}}}creator")]
                    t.subjects = [e.text or "" for e in md.iter(f"{{{DC}}}subject")]
                by_pk[pk] = t
            for pk, spec in db.execute(
                    "SELECT hs.header_id, s.spec FROM django_oai_pmh_header_sets hs "
                    "JOIN django_oai_pmh_set s ON s.id = hs.set_id"):
                by_pk[pk].sets.append(spec)
        db.close()
        for t in by_pk.values():
            t.sets.sort()
        return {t.identifier: t for t in by_pk.values()}

    def active(self, spec: str | None = None) -> set[str]:
        """The identifiers not deleted, of one set (its records name it: ancestors given)."""
        return {i for i, t in self.truth().items()
                if not t.deleted and (spec is None or spec in t.sets)}

    def deleted(self) -> set[str]:
        return {i for i, t in self.truth().items() if t.deleted}


if __name__ == "__main__":
    main(sys.argv[1:])
