"""Keep secrets out of log lines and exception text."""
from __future__ import annotations

import base64
import logging
from collections.abc import Iterable

MASK = "***"


def secret_variants(secrets: Iterable[str | None]) -> list[str]:
    """The secrets plus the encodings they travel in (HTTP Basic base64)."""
    out = [s for s in secrets if s]
    return sorted(set(out), key=len, reverse=True)


def basic_variants(username: str, password: str) -> list[str]:
    pair = f"{username}:{password}".encode()
    return [password, base64.b64encode(pair).decode()]


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every occurrence of every non-empty secret by a mask (longest first)."""
    for s in secret_variants(secrets):
        if len(s) >= 3:             # masking 1-2 characters would shred any text
            text = text.replace(s, MASK)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in the formatted message and arguments."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self.secrets = secret_variants(secrets)

    def add(self, *secrets: str | None) -> None:
        self.secrets = secret_variants([*self.secrets, *secrets])

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = redact(msg, self.secrets)
        if clean != msg or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self.secrets)
        return True
