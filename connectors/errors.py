"""Exceptions raised by the connectors.

Every message names the source, the stream and the record (or file:line) and
says what happened to the data. Messages are built only from safe parts (URL
paths, status codes, field names, record keys): never from response bodies,
query strings or credentials.
"""
from __future__ import annotations


class BridgeError(Exception):
    """Base of every connector error."""


class ConfigError(BridgeError):
    """A connector was given an unusable configuration."""


class SourceError(BridgeError):
    """A stream could not be read to its end; nothing past the last committed batch was landed."""

    def __init__(self, source: str, stream: str, detail: str, *, path: str | None = None,
                 status: int | None = None, method: str = "GET") -> None:
        self.source, self.stream, self.detail, self.path, self.status = source, stream, detail, path, status
        where = f" {method} {path}" if path else ""
        last = f" (last status {status})" if status is not None else ""
        super().__init__(f"{source}/{stream}{where}: {detail}{last}; "
                         "stream stopped, batches committed before this point are kept")


class HttpStatusError(SourceError):
    """A non-retryable HTTP status (4xx other than 401/403). `body` holds the response bytes for a
    caller that reads the server's own error (SCIM's scimType); the message never includes them.
    `attempts` says which try got it (a 409 on a retried POST may answer the bridge's own first try)."""

    def __init__(self, source: str, stream: str, detail: str, *, body: bytes = b"", attempts: int = 1,
                 **kwargs) -> None:
        super().__init__(source, stream, detail, **kwargs)
        self.body, self.attempts = body, attempts


class AuthError(SourceError):
    """Credentials were refused (after one token refresh where the scheme allows it)."""


class SchemaDriftError(SourceError):
    """A record lacks a required field: the stream fails, the page holding it is not landed."""

    def __init__(self, source: str, stream: str, field: str, record_ref: str) -> None:
        self.field, self.record_ref = field, record_ref
        super().__init__(source, stream,
                         f"record {record_ref} has no required field '{field}'; page not landed")
