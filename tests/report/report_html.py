"""Reading the numbers the report pages show: elements carrying data-testid."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

VOID = {"meta", "link", "br", "img", "input", "hr", "rect", "path", "circle", "line"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""

    @property
    def value(self) -> str:
        return self.attrs.get("data-value", self.text.strip())


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Element] = []
        self.open: list[tuple[str, Element | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        el = Element(tag, a) if "data-testid" in a else None
        if el:
            self.found.append(el)
        if tag not in VOID:
            self.open.append((tag, el))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag:
                del self.open[i:]
                return

    def handle_data(self, data: str) -> None:
        for _, el in self.open:
            if el is not None:
                el.text += data


def elements(path: Path, testid: str | None = None) -> list[Element]:
    c = _Collector()
    c.feed(path.read_text(encoding="utf-8"))
    return [e for e in c.found if testid is None or e.attrs["data-testid"] == testid]


def one(path: Path, testid: str, **attrs: str) -> Element:
    found = [
        e for e in elements(path, testid)
        if all(e.attrs.get(f"data-{k.replace('_', '-')}") == v for k, v in attrs.items())
    ]
    assert len(found) == 1, f"{path.name}: expected one [data-testid={testid}] {attrs}, found {len(found)}"
    return found[0]
