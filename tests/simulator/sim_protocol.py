"""Plain-protocol readers written for the tests (independent of connectors/ and of the simulator)."""
from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from urllib.parse import urljoin

import requests

TIMEOUT = 2.0  # short read timeout: the simulator's stall fault (3 s) must trip it


def retrying(fn, attempts: int = 40):
    """Call fn until it returns without a transport/HTTP/JSON error; honour Retry-After."""
    last: Exception | None = None
    for _ in range(attempts):
        try:
            return fn()
        except RetryAfter as exc:
            last = exc
            time.sleep(exc.seconds)
        except (requests.RequestException, ValueError) as exc:
            last = exc
            time.sleep(0.01)
    raise AssertionError(f"gave up after {attempts} attempts: {last!r}")


class RetryAfter(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def get_json(session: requests.Session, url: str, **kw) -> tuple[dict, requests.Response]:
    r = session.get(url, timeout=TIMEOUT, **kw)
    if r.status_code == 429:
        raise RetryAfter(float(r.headers.get("Retry-After", "1")))
    if r.status_code >= 500:
        raise requests.HTTPError(f"{r.status_code}", response=r)
    r.raise_for_status()
    return r.json(), r


def scim_users(env: dict, count: int = 50, filter_: str | None = None, retry: bool = False) -> list[dict]:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {env['HRIS_SCIM_TOKEN']}"
    out, start = [], 1
    while True:
        params = {"startIndex": start, "count": count}
        if filter_:
            params["filter"] = filter_
        call = lambda p=params: get_json(s, f"{env['HRIS_SCIM_URL']}/Users", params=p)[0]
        page = retrying(call) if retry else call()
        res = page.get("Resources", [])
        if not res:
            return out
        out.extend(res)
        start += len(res)


def xapi_statements(env: dict, since: str | None = None, until: str | None = None, limit: int = 500,
                    retry: bool = False) -> tuple[list[dict], str, int]:
    """(statements, consistent-through of the first response, pages)."""
    s = requests.Session()
    s.auth = (env["LRS_USERNAME"], env["LRS_PASSWORD"])
    s.headers["X-Experience-API-Version"] = "1.0.3"
    params = {"ascending": "true", "limit": limit}
    if since:
        params["since"] = since
    if until:
        params["until"] = until
    url = f"{env['LRS_URL']}/statements"
    call = lambda: get_json(s, url, params=params)
    body, resp = retrying(call) if retry else call()
    ct = resp.headers["X-Experience-API-Consistent-Through"]
    out, pages = list(body["statements"]), 1
    while body["more"]:
        nxt = urljoin(env["LRS_URL"], body["more"])
        call = lambda u=nxt: get_json(s, u)
        body, _ = retrying(call) if retry else call()
        out.extend(body["statements"])
        pages += 1
    return out, ct, pages


def lms_token(env: dict) -> str:
    r = requests.post(f"{env['LMS_URL']}/oauth/token", timeout=TIMEOUT,
                      data={"grant_type": "client_credentials", "client_id": env["LMS_CLIENT_ID"],
                            "client_secret": env["LMS_CLIENT_SECRET"]})
    if r.status_code == 429 or r.status_code >= 500:
        raise requests.HTTPError(str(r.status_code), response=r)
    r.raise_for_status()
    return r.json()["access_token"]


def rest_list(base: str, path: str, token: str, updated_since: str | None = None, limit: int = 200,
              retry: bool = False) -> list[dict]:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    params: dict = {"limit": limit}
    if updated_since:
        params["updated_since"] = updated_since
    out = []
    while True:
        call = lambda p=params: get_json(s, f"{base}{path}", params=dict(p))[0]
        page = retrying(call) if retry else call()
        out.extend(page["data"])
        if not page.get("next_cursor"):
            return out
        params = {"limit": limit, "cursor": page["next_cursor"]}


def read_payroll(path: Path) -> list[dict]:
    text = path.read_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def read_truth(truth_dir: Path, name: str) -> list[dict]:
    with open(truth_dir / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def truth_count(truth_dir: Path, feed: str, stream: str) -> tuple[int, int]:
    for r in read_truth(truth_dir, "counts.csv"):
        if r["feed"] == feed and r["stream"] == stream:
            return int(r["records"]), int(r["deleted"])
    raise KeyError((feed, stream))
