"""The provider's settings: HARVESTER_OAI_* defaults from harvester/settings.py (one place),
then environment variables of the same names, then `-s NAME=VALUE` of the command line."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harvester import settings as defaults
from harvester.exceptions import ConfigError

# setting name -> field of OaiSettings
FIELDS = {
    "HARVESTER_OAI_NAMESPACE": "namespace",
    "HARVESTER_OAI_PAGE_SIZE": "page_size",
    "HARVESTER_OAI_REPOSITORY_NAME": "repository_name",
    "HARVESTER_OAI_ADMIN_EMAIL": "admin_email",
    "HARVESTER_OAI_BASE_URL": "base_url",
    "HARVESTER_OAI_TOKEN_SECRET": "token_secret",
    "HARVESTER_OAI_THREADS": "threads",
    "HARVESTER_OAI_INDEX_TTL": "index_ttl",
    "HARVESTER_OAI_SEGMENT_SIZE": "segment_size",
}
# the oai-identifier scheme's namespace: a domain name
_NAMESPACE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*(\.[A-Za-z][A-Za-z0-9-]*)+$")


@dataclass(frozen=True)
class OaiSettings:
    namespace: str = defaults.HARVESTER_OAI_NAMESPACE
    page_size: int = defaults.HARVESTER_OAI_PAGE_SIZE
    repository_name: str = defaults.HARVESTER_OAI_REPOSITORY_NAME
    admin_email: str = defaults.HARVESTER_OAI_ADMIN_EMAIL
    base_url: str = defaults.HARVESTER_OAI_BASE_URL
    token_secret: str = defaults.HARVESTER_OAI_TOKEN_SECRET
    threads: int = defaults.HARVESTER_OAI_THREADS
    index_ttl: float = defaults.HARVESTER_OAI_INDEX_TTL
    segment_size: int = defaults.HARVESTER_OAI_SEGMENT_SIZE

    def __post_init__(self) -> None:
        if not _NAMESPACE_RE.fullmatch(self.namespace):
            raise ConfigError(f"HARVESTER_OAI_NAMESPACE must be a domain name (e.g. "
                              f"archive.example.org), not {self.namespace!r}")
        if self.page_size < 1 or self.threads < 1 or self.segment_size < 1:
            raise ConfigError("HARVESTER_OAI_PAGE_SIZE, _THREADS and _SEGMENT_SIZE must be >= 1")
        if "@" not in self.admin_email:
            raise ConfigError(f"HARVESTER_OAI_ADMIN_EMAIL is not an e-mail address: "
                              f"{self.admin_email!r}")


def load_settings(overrides: Sequence[str] = (), environ: Mapping[str, str] | None = None
                  ) -> OaiSettings:
    """Defaults < environment < `NAME=VALUE` overrides; ConfigError for a bad one."""
    environ = os.environ if environ is None else environ
    values: dict[str, str] = {name: environ[name] for name in FIELDS if environ.get(name)}
    for item in overrides:
        name, sep, value = item.partition("=")
        if not sep or name not in FIELDS:
            raise ConfigError(f"-s {item!r}: not a NAME=VALUE of {', '.join(FIELDS)}")
        values[name] = value
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        field_name = FIELDS[name]
        kind = type(getattr(OaiSettings, field_name))
        try:
            kwargs[field_name] = kind(value)
        except ValueError:
            raise ConfigError(f"{name}={value!r}: not a {kind.__name__}") from None
    return OaiSettings(**kwargs)
