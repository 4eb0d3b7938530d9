"""Generate tests/fixtures/contract_tables.json from docs/contract.md section 4 (run once,
when the contract changes): {"reporting": {table: [columns]}, "restricted": {...}}."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def parse(text: str) -> dict[str, dict[str, list[str]]]:
    section = text.split("## 4. Published tables", 1)[1]
    tables: dict[str, dict[str, list[str]]] = {}
    schema = None
    current = None
    for line in section.splitlines():
        m = re.match(r"^`(\w+)` schema", line)
        if m:
            schema = m.group(1)
            tables.setdefault(schema, {})
            continue
        m = re.match(r"^- `(\w+)`(?: \([^)]*\))?: (.*)$", line)
        if m and schema:
            current = (schema, m.group(1))
            tables[schema][m.group(1)] = [m.group(2)]
            continue
        if current and line.startswith("  ") and line.strip():
            tables[current[0]][current[1]].append(line.strip())
        else:
            current = None if not line.startswith("  ") else current
    out: dict[str, dict[str, list[str]]] = {}
    for schema, tbls in tables.items():
        out[schema] = {}
        for name, parts in tbls.items():
            text = " ".join(parts)
            text = re.sub(r"\([^)]*\)", "", text)  # value domains like (exact, normalised, ...)
            out[schema][name] = [c.strip() for c in text.split(",") if c.strip()]
    return out


if __name__ == "__main__":
    contract = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "contract.md").read_text()
    parsed = {k: v for k, v in parse(contract).items() if k in ("reporting", "restricted")}
    target = ROOT / "tests" / "fixtures" / "contract_tables.json"
    target.write_text(json.dumps(parsed, indent=2) + "\n")
    print(f"wrote {target}: " + ", ".join(f"{s} {len(t)} tables" for s, t in parsed.items()))
