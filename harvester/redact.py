"""Credentials never reach logs: a logging filter that masks AWS keys, secrets and signatures.

Installed on the root handlers by the runner. It masks access key ids (AKIA/ASIA...), the
values of the AWS secret/session-token environment variables, and SigV4 signatures; the
AWS SDK loggers (which print request headers at DEBUG) are also held at INFO.
"""

from __future__ import annotations

import logging
import os
import re

_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{12,20}\b")
_SIGNATURE = re.compile(r"(Signature=)[0-9a-f]{16,}")
_SECRET_VARS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                "AWS_ACCESS_KEY_ID")
_NOISY = ("botocore", "boto3", "urllib3", "s3transfer")


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    text = _KEY_ID.sub("***", text)
    return _SIGNATURE.sub(r"\1***", text)


class RedactingFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.secrets = tuple(v for name in _SECRET_VARS if (v := os.environ.get(name, "")))

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string: leave it to logging
            return True
        clean = redact(message, self.secrets)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info),
                                     self.secrets)
            record.exc_info = None
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


def install() -> None:
    """Mask credentials in everything the root logger's handlers write."""
    flt = RedactingFilter()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(flt)
    for name in _NOISY:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)
