"""LMS REST API (CONTRACT 2.3): OAuth2 client credentials, nine cursor-listed resources."""
from __future__ import annotations

import logging

from .config import LmsConfig
from .http import HttpClient, OAuth2ClientCredentials
from .landing import DuckDBLander, ExtractAudit
from .rest import extract_rest_stream

SOURCE = "lms"
STREAMS = ("users", "competency_frameworks", "competencies", "job_profiles", "courses",
           "assignments", "assessments", "reviews", "observations")


def client(config: LmsConfig) -> HttpClient:
    auth = OAuth2ClientCredentials("oauth/token", config.client_id, config.client_secret)
    return HttpClient(SOURCE, config.base_url, auth, config.http)


def extract(lander: DuckDBLander, config: LmsConfig, run_id: str, log: logging.Logger,
            streams: tuple[str, ...] = STREAMS) -> list[ExtractAudit]:
    with client(config) as http:
        return [extract_rest_stream(lander, http, SOURCE, s, f"api/v1/{s}", run_id, config.page_size, log,
                                    config.batch_records)
                for s in streams]
