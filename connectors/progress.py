"""Progress of a running extract, for whoever displays it (the `bridge` command's live lines).

The connectors report each page read and each batch landed to the `connectors.progress`
logger at DEBUG, with the counts in the record's `bridge_progress` attribute. Nothing
listens by default (the logger does not propagate, so no run log ever holds these); a
display sets the level and adds a handler.
"""
from __future__ import annotations

import logging

PROGRESS = logging.getLogger("connectors.progress")
PROGRESS.propagate = False


def wanted() -> bool:
    """Whether anyone listens (worth counting what is not counted anyway)."""
    return PROGRESS.isEnabledFor(logging.DEBUG)


def page_read(source: str, stream: str, nbytes: int) -> None:
    if PROGRESS.isEnabledFor(logging.DEBUG):
        PROGRESS.debug("%s/%s: page of %d bytes", source, stream, nbytes,
                       extra={"bridge_progress": {"source": source, "stream": stream, "pages": 1, "bytes": nbytes}})


def records_landed(source: str, stream: str, records: int) -> None:
    if PROGRESS.isEnabledFor(logging.DEBUG):
        PROGRESS.debug("%s/%s: %d records landed", source, stream, records,
                       extra={"bridge_progress": {"source": source, "stream": stream, "records": records}})
