"""Check-in (strategy execution) REST API (CONTRACT 2.4): Bearer token, objectives and checkins."""
from __future__ import annotations

import logging

from .config import CheckinsConfig
from .http import BearerAuth, HttpClient
from .landing import DuckDBLander, ExtractAudit
from .rest import extract_rest_stream

SOURCE = "checkins"
STREAMS = ("objectives", "checkins")


def client(config: CheckinsConfig) -> HttpClient:
    return HttpClient(SOURCE, config.base_url, BearerAuth(config.token), config.http)


def extract(lander: DuckDBLander, config: CheckinsConfig, run_id: str, log: logging.Logger,
            streams: tuple[str, ...] = STREAMS) -> list[ExtractAudit]:
    with client(config) as http:
        return [extract_rest_stream(lander, http, SOURCE, s, f"api/v1/{s}", run_id, config.page_size, log,
                                    config.batch_records)
                for s in streams]
