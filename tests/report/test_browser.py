"""Every page renders in headless Chromium with no console errors and no request
beyond its own file; screenshots go to the test's tmp dir (and to docs/screenshots
with UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from report_browser import Browser
from report_fixture_db import SLIPS, build_published_db, republish

from orchestration.lib.report import generate_report

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PAGES = ("index", "strategy", "capability", "people", "audit")


@pytest.fixture(scope="module")
def browser_and_site(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("site")
    db = build_published_db(root / "bridge.duckdb")
    generate_report(db, root / "report")
    republish(db, "r4", SLIPS)  # a second publication, so the pages show what slipped
    result = generate_report(db, root / "report")
    profile = tmp_path_factory.mktemp("chromium-profile")
    browser = Browser(profile)
    yield browser, result, root
    browser.close()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_cleanly_offline(browser_and_site, name: str):
    browser, result, root = browser_and_site
    load = browser.load(result.pages[name])
    assert load.errors == []
    assert load.foreign_requests == []
    assert load.requests and all(r.startswith("file://") for r in load.requests[:1])
    assert browser.evaluate("document.body.dataset.page") == name
    # laid out as a page, not a wall of unstyled text: the header bar has its colour
    assert browser.evaluate("getComputedStyle(document.querySelector('header.top')).backgroundColor") == "rgb(24, 50, 79)"

    shot = browser.screenshot()
    width, height = png_size(shot)
    assert width >= 1000 and height >= 600 and len(shot) > 20_000
    (root / f"{name}.png").write_bytes(shot)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / f"{name}.png").write_bytes(shot)


def choose(browser: Browser, select_id: str, value: str) -> None:
    """Pick an option as a user would: set the value, fire the change event."""
    browser.evaluate(f"(() => {{ const s = document.getElementById('{select_id}'); s.value = '{value}';"
                     "s.dispatchEvent(new Event('change')); })()")


def test_strategy_filters_by_org_unit_and_period(browser_and_site):
    browser, result, _ = browser_and_site
    browser.load(result.pages["strategy"])
    visible = "[...document.querySelectorAll('#cascade tbody tr')].filter(r => !r.hidden).map(r => r.dataset.objectiveId)"
    assert len(browser.evaluate(visible)) == 8

    choose(browser, "filter-org", "Operations")
    assert sorted(browser.evaluate(visible)) == ["O5", "O6", "O7", "O8"]
    assert browser.evaluate("document.querySelector('[data-shown-for=cascade]').textContent") == "4"

    # a half selects its quarters too (O3 is FY2027-Q2); a year its halves and quarters
    choose(browser, "filter-org", "Sales")
    choose(browser, "filter-period", "FY2027-H1")
    assert sorted(browser.evaluate(visible)) == ["O2", "O3", "O4"]
    assert browser.evaluate("document.querySelector('[data-shown-for=issues]').textContent") == "2"
    choose(browser, "filter-period", "FY2027")
    assert sorted(browser.evaluate(visible)) == ["O1", "O2", "O3", "O4"]
    choose(browser, "filter-risk", "off_track")
    assert sorted(browser.evaluate(visible)) == ["O1", "O4"]
