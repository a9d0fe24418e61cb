"""Settings from the environment, for containers, cron and Kubernetes.

Precedence, lowest first: harvester/settings.py defaults < environment < CLI flags < -s.
AWS settings are not listed: boto3 reads the standard AWS_* variables itself
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, AWS_REGION /
AWS_DEFAULT_REGION, AWS_ENDPOINT_URL for MinIO, Ceph or R2).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from harvester import __version__

# environment variable -> (Scrapy setting, documented default)
ENVIRONMENT: dict[str, tuple[str, str]] = {
    "HARVESTER_STORE": ("HARVESTER_STORE", "./harvest-data"),
    "HARVESTER_MODE": ("HARVESTER_MODE", "auto"),
    "HARVESTER_BASE_URL": ("HARVESTER_BASE_URL", "(the live site)"),
    "HARVESTER_LIMIT": ("HARVESTER_LIMIT", "0 (no limit)"),
    "HARVESTER_CONTACT_URL": ("HARVESTER_CONTACT_URL", "the project's URL"),
    "HARVESTER_DOWNLOAD_DELAY": ("DOWNLOAD_DELAY", "1.0"),
    "HARVESTER_CONCURRENCY": ("CONCURRENT_REQUESTS_PER_DOMAIN", "1"),
    "HARVESTER_AUTOTHROTTLE": ("AUTOTHROTTLE_ENABLED", "true"),
    "HARVESTER_SPOOL_DIR": ("HARVESTER_SPOOL_DIR", "~/.cache/archive-harvester/spool/<store>"),
    "HARVESTER_PROGRESS": ("HARVESTER_PROGRESS", "auto"),
    "HARVESTER_LOG_LEVEL": ("LOG_LEVEL", "INFO"),
    "HARVESTER_REDIS_URL": ("HARVESTER_REDIS_URL", "(none: a single process)"),
    "HARVESTER_WORKERS": ("HARVESTER_WORKERS", "1"),
    "HARVESTER_REDIS_JOIN_ONLY": ("HARVESTER_REDIS_JOIN_ONLY", "false (start a crawl if none runs)"),
    "HARVESTER_METRICS_TEXTFILE": ("HARVESTER_METRICS_TEXTFILE", "(none: no textfile)"),
    "HARVESTER_PUSHGATEWAY": ("HARVESTER_PUSHGATEWAY", "(none: no push)"),
}


def settings_from_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    environ = os.environ if environ is None else environ
    return {setting: environ[name] for name, (setting, _) in ENVIRONMENT.items()
            if environ.get(name, "") != ""}


def user_agent(contact_url: str) -> str:
    return f"archive-harvester/{__version__} (+{contact_url})"


def default(name: str) -> Any:
    """A harvester setting's default: its value in harvester/settings.py, the one place the
    defaults are written (for settings objects made without the project's, as in tests)."""
    from harvester import settings as defaults

    return getattr(defaults, name)


# A harvester setting read from Scrapy settings, its default taken from harvester/settings.py.
def setting(settings: Any, name: str) -> Any:
    return settings.get(name, default(name))


def setting_int(settings: Any, name: str) -> int:
    return int(settings.getint(name, default(name)))


def setting_float(settings: Any, name: str) -> float:
    return float(settings.getfloat(name, default(name)))


def setting_bool(settings: Any, name: str) -> bool:
    return bool(settings.getbool(name, default(name)))


def setting_list(settings: Any, name: str) -> list[Any]:
    return list(settings.getlist(name, default(name)))
