"""Jinja2 rendering of the report pages: one environment, autoescaped, templates held
in Python (so the package needs no data files), filters for dates and numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import jinja2
from markupsafe import Markup

from orchestration.lib.report import templates
from orchestration.lib.report.charts import RISK_COLOURS

NAV = (
    ("index", "Overview"),
    ("strategy", "Strategy execution"),
    ("capability", "Capability"),
    ("people", "People"),
    ("audit", "Audit"),
)


@dataclass
class Page:
    name: str  # file stem: strategy -> strategy.html
    title: str
    context: dict[str, Any]
    figures: dict[str, Any] = field(default_factory=dict)


def _num(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    try:
        return f"{float(value):,.{digits}f}" if digits else f"{round(float(value)):,}"
    except (TypeError, ValueError):
        return str(value)


def _date(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _label(value: Any) -> str:
    return "–" if value is None else str(value).replace("_", " ")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.DictLoader(templates.TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a misspelt field fails the build, not the reader
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=_num, d=_date, label=_label)
    env.globals.update(
        nav=NAV,
        risk_colours=RISK_COLOURS,
        css=Markup(templates.CSS),
        filter_js=Markup(templates.FILTER_JS),
    )
    return env


_ENV = _environment()


def render(page: Page, common: dict[str, Any]) -> str:
    return _ENV.get_template(f"{page.name}.html").render(page=page, **common, **page.context)
