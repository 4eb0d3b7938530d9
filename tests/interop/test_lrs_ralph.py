"""The xAPI feed against ralph (ralph-malph, the LRS of France Université Numérique), file-system backend.

ralph departs from the contract the way real LRSs do: no /about (404), no
X-Experience-API-Consistent-Through, `ascending` ignored, `more` links carrying extra parameters,
since/until compared with `timestamp` rather than `stored`, and a second POST refused with a 500
(so statements after the first batch are appended to its JSON-lines file, which it reads on every
query). The bridge must still land exactly what it holds: the window ends at the response's Date
minus the settle lag, the next one overlaps, and the periodic full re-read heals what ralph's
incremental query never returns.
"""
from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import duckdb
import pytest
import requests

from connectors.config import HttpSettings, XapiConfig
from connectors.sync import extract_source
from tests.interop.dbt_run import run_models
from tests.third_party import ralph_lrs
from tests.waiting import wait_until

LOG = logging.getLogger("test.interop.lrs")
USER, PASSWORD = "bridge-reader", "ralph-Pa55-word"
VERSION = {"X-Experience-API-Version": "1.0.3"}
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
HTTP = HttpSettings(connect_timeout=5, read_timeout=60, max_attempts=3, backoff_initial=0.05, backoff_max=0.2)
# a short settle lag (the default is 300 s): ralph stamps a statement sent without a `timestamp` with the
# time it stores it, and its until compares timestamps, so such a statement is read once the lag is past
SETTLE = 2
DAY = date(2026, 6, 30)
REPO = Path(__file__).resolve().parents[2]
# the xAPI 1.0.3 specification's examples (tests/connectors/fixtures): ralph takes all but the
# sub-statement (it wrongly asks its object for an `id`) and the second statement of a shared id
SPEC = json.loads((REPO / "tests/connectors/fixtures/xapi/spec-examples.json").read_text())
SPEC_POSTED = [s for i, s in enumerate(SPEC) if s.get("object", {}).get("objectType") != "SubStatement"
               and (s.get("id") is None or s["id"] not in {t.get("id") for t in SPEC[:i]})]

pytestmark = pytest.mark.interop


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "+00:00"


def statement(i: int, timestamp: datetime, verb: str = COMPLETED, obj: dict | None = None) -> dict:
    return {"id": str(uuid.uuid4()), "actor": {"objectType": "Agent", "mbox": f"mailto:learner{i}@example.org"},
            "verb": {"id": verb},
            "object": obj or {"objectType": "Activity", "id": f"https://lms.example.org/courses/crs-{i % 4:03d}"},
            "result": {"completion": True, "duration": "PT1H5M"}, "timestamp": stamp(timestamp)}


def held(data: Path) -> dict[str, dict]:
    """What ralph holds: every line of its JSON-lines file."""
    return {s["id"]: s for s in (json.loads(line) for f in sorted(data.glob("*.jsonl"))
                                 for line in f.read_text().splitlines() if line.strip())}


def append(data: Path, statements: list[dict]) -> None:
    """ralph refuses a second POST on this backend: later statements go into its file, stored now."""
    [lrs_file] = data.glob("*.jsonl")
    stored = stamp(datetime.now(UTC))
    with lrs_file.open("a") as f:
        for s in statements:
            f.write(json.dumps({**s, "stored": stored,
                                "authority": {"objectType": "Agent", "mbox": "mailto:bridge@example.org"}}) + "\n")


def settled(url: str, data: Path) -> None:
    """Wait until ralph's clock (its Date) minus the settle lag has passed every statement it holds."""
    latest = max(datetime.fromisoformat(s["timestamp"]) for s in held(data).values())

    def lrs_clock_past() -> bool:
        resp = requests.get(f"{url}/statements", params={"limit": 1}, auth=(USER, PASSWORD), headers=VERSION,
                            timeout=10)
        return parsedate_to_datetime(resp.headers["Date"]) - timedelta(seconds=SETTLE) > latest

    wait_until(lrs_clock_past, f"ralph's Date never passed {latest} + {SETTLE} s", timeout=60, interval=0.25)


def landed(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    return {rid: json.loads(p) for rid, p in con.execute("select record_id, payload from raw.xapi__statements").fetchall()}


def unvoided(work: Path, tmp: Path) -> set[str]:
    """Statement ids left after voiding, by the project's own dbt models on the landed raw layer."""
    rows = run_models(work, tmp, "stg_xapi__statements int_learning__statements_unvoided",
                      "select statement_id from {schema}.int_learning__statements_unvoided",
                      env={"LRS_ACCOUNT_HOMEPAGE": "https://hr.example.org"})
    return {r[0] for r in rows}


@pytest.fixture(scope="module")
def lrs(tmp_path_factory: pytest.TempPathFactory):
    with ralph_lrs(tmp_path_factory.mktemp("ralph"), username=USER, password=PASSWORD) as (url, data):
        yield url, data


def test_ralph_departures_are_what_the_feed_is_built_for(lrs) -> None:
    url, _ = lrs
    auth = (USER, PASSWORD)
    assert requests.get(f"{url}/about", auth=auth, headers=VERSION, timeout=10).status_code == 404
    resp = requests.get(f"{url}/statements", params={"limit": 1}, auth=auth, headers=VERSION, timeout=10)
    assert resp.status_code == 200 and "X-Experience-API-Consistent-Through" not in resp.headers
    assert resp.headers["Date"]


def test_full_then_incremental_then_full_re_read_lands_what_ralph_holds(lrs, tmp_path: Path) -> None:
    url, data = lrs
    now = datetime.now(UTC)
    first = [statement(i, now - timedelta(hours=3, minutes=i)) for i in range(23)]
    resp = requests.post(f"{url}/statements", json=[*first, *SPEC_POSTED], auth=(USER, PASSWORD), headers=VERSION,
                         timeout=30)
    assert resp.status_code == 200, resp.text
    assert len(held(data)) == len(first) + len(SPEC_POSTED) == 23 + 7     # ralph gave ids to the ones without
    refused = requests.post(f"{url}/statements", json=[statement(99, now)], auth=(USER, PASSWORD),
                            headers=VERSION, timeout=30)
    assert refused.status_code == 500            # ralph's fs backend: one POST per file
    settled(url, data)

    config = XapiConfig(base_url=url, username=USER, password=PASSWORD, http=HTTP, page_size=5,
                        settle_seconds=SETTLE, full_refresh_days=7)
    work = tmp_path / "work.duckdb"
    con = duckdb.connect(str(work))
    [r1] = extract_source(con, "xapi", config, "run-1", DAY, LOG)
    assert r1.mode == "full" and r1.pages >= 5                  # followed ralph's `more` links (extra params)
    assert landed(con) == held(data)

    # after run 1: statements whose timestamps fall in the overlap (stored late), a voiding statement for
    # one of run 1's, and one with an old timestamp that ralph's since/until (on timestamp) never returns
    w1 = datetime.fromisoformat(r1.cursor_to)
    late = [statement(30 + i, w1 - timedelta(milliseconds=300 * (i + 1))) for i in range(3)]   # in the overlap
    voiding = statement(40, w1 - timedelta(milliseconds=100), verb=VOIDED,
                        obj={"objectType": "StatementRef", "id": first[5]["id"]})
    missed = statement(41, now - timedelta(days=3))
    append(data, [*late, voiding, missed])

    [r2] = extract_source(con, "xapi", config, "run-2", DAY, LOG)
    got = landed(con)
    assert r2.mode == "incremental"
    assert {s["id"] for s in [*late, voiding]} <= set(got) and missed["id"] not in got
    assert r2.new_versions == len(late) + 1

    [r3] = extract_source(con, "xapi", config, "run-3", DAY + timedelta(days=7), LOG)   # the periodic re-read
    assert r3.mode == "full" and r3.new_versions == 1
    assert landed(con) == held(data)
    con.close()

    left = unvoided(work, tmp_path)
    assert first[5]["id"] not in left and voiding["id"] not in left
    voidings = {i for i, s in held(data).items() if s["verb"]["id"] == VOIDED}     # the spec's one too
    assert left == set(held(data)) - voidings - {first[5]["id"]}
