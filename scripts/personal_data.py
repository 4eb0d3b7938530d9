"""The personal-data classification of every column, kept in the dbt YAML, and its register.

    python scripts/personal_data.py docs                 # (re)write docs/personal-data.md from the YAML
    python scripts/personal_data.py docs --check         # exit 1 when docs/personal-data.md is stale
    python scripts/personal_data.py classify WORK_DB     # add the columns a built warehouse has and
                                                         # the YAML lacks, classified by rule

Every column of every source and model carries `config.meta.personal_data`, one of
CLASSES. `classify` proposes a class by the rules below only where none is set (a class in
the YAML is never overwritten: the YAML is the reviewed record); `docs` renders the YAML.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "dbt_project" / "models"
DOC = REPO / "docs" / "personal-data.md"

CLASSES = {
    "none": "not about a person",
    "identifier": "identifies a person (employee number, e-mail, SCIM id, LMS user id, xAPI actor)",
    "personal": "about an identified person (name, job, dates, ratings, learning, progress)",
    "special": "a GDPR art. 9 special category (health, beliefs, union membership, ...)",
    "free_text": ("text a person wrote (notes, observations, impediments): may say anything; an erasure "
                  "replaces the erased person's names and e-mails in what it keeps by their pseudonym"),
    "compensation": "salary and pay data (restricted)",
}

# layer -> (why it is kept, for how long)
LAYERS = {
    "raw": (("the sources' records as received: history is rebuilt from them, and the audit trail "
            "names what each run consumed"),
            ("until the person is erased (`bridge erase`, or `BRIDGE_RETENTION_DAYS_AFTER_TERMINATION` "
            "days after termination); payroll rows `BRIDGE_PAYROLL_RETENTION_DAYS` after their period")),
    "staging": ("the latest version of each record, typed and cleaned: rebuilt every run",
                "as long as the raw records (rebuilt from them at every run)"),
    "intermediate": ("identity resolution, title matching, history and metrics: rebuilt every run",
                     "as long as the raw records (rebuilt from them at every run)"),
    "reporting": ("what HR reports read (published file / `reporting` schema)",
                  "replaced at every publication; an erased person is gone from the next one"),
    "restricted": ("compensation, for payroll and HR analysts only (mode-0600 file / `restricted` schema)",
                   ("replaced at every publication; payroll periods older than `BRIDGE_PAYROLL_RETENTION_DAYS` "
                   "are removed")),
}

_FREE_TEXT = {"note", "impediment", "observation_text", "text"}
_COMPENSATION = {"annual_base_salary", "pay_grade", "remuneration_package", "remuneration_packages"}
_IDENTIFIER = re.compile(
    r"^(.*employee_number.*|.*scim_id|.*email.*|.*lms_user_id|user_name|external_id|actor_.*|source_key|"
    r"record_ref|owner_employee_number|manager_employee_number|rater_employee_number|"
    r"reviewer_employee_number|author_employee_number|candidate_employee_number|employee_id)$")
_TECHNICAL = re.compile(
    r"^(record_hash|batch_seq|run_id|landed_at|first_landed_at|is_deleted|source_updated_at|"
    r"updated_at|as_of_date|file_sha256|file_name|line_number|exported_at|period_end|status_text|"
    r"version_rank|.*_text)$")
# A source's tables share one column list in the YAML (an anchor), so a raw payload carries the
# class of its system's most sensitive stream (LMS: observations; check-ins: notes).
_PAYLOAD_BY_SYSTEM = {"hris": "personal", "xapi": "personal", "lms": "free_text", "checkins": "free_text",
                      "payroll": "compensation"}
# record_id is a person's id in hris__users and lms__users (and shares the LMS list, see above)
_RECORD_ID_BY_SYSTEM = {"hris": "identifier", "lms": "identifier"}


def rule(table: str, column: str, person_grain: bool) -> str:
    """The class a column gets by rule (the YAML may say otherwise)."""
    system = table.removeprefix("raw.").split("__")[0]
    if table.startswith("raw.") and column == "payload":
        return _PAYLOAD_BY_SYSTEM.get(system, "none")
    if table.startswith("raw.") and column == "record_id":
        return _RECORD_ID_BY_SYSTEM.get(system, "none")
    if column in _FREE_TEXT:
        return "free_text"
    if column in _COMPENSATION:     # a person's pay; a job's package is not about anyone
        return "compensation" if person_grain else "none"
    if _IDENTIFIER.match(column):
        return "identifier"
    if not person_grain or _TECHNICAL.match(column) or column.endswith("_id"):
        return "none"
    return "personal"


def _layer(path: Path) -> str:
    rel = path.relative_to(MODELS).parts
    return {"staging": "staging", "intermediate": "intermediate", "marts": "reporting"}.get(rel[0], rel[0])


def _yaml():
    from ruamel.yaml import YAML

    y = YAML()
    y.preserve_quotes = True
    y.width = 4096      # never re-wrap a line of the hand-written YAML
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def entries(doc: dict, path: Path) -> Iterator[tuple[str, str, dict]]:
    """(layer, relation name, entry) for every source table and model of one YAML file."""
    for source in doc.get("sources") or []:
        schema = source.get("schema", source.get("name"))
        for table in source.get("tables") or []:
            yield "raw", f"{schema}.{table.get('identifier', table['name'])}", table
    for model in doc.get("models") or []:
        layer = _layer(path)
        if layer == "reporting" and "restricted" in path.parts:
            layer = "restricted"
        yield layer, model["name"], model


def _flow(mapping: dict):
    """A mapping written on one line (`config: {meta: {personal_data: none}}`)."""
    from ruamel.yaml.comments import CommentedMap

    m = CommentedMap(mapping)
    m.fa.set_flow_style()
    return m


def yaml_files() -> list[Path]:
    return sorted(p for p in MODELS.rglob("*.yml"))


def classification() -> list[tuple[str, str, str, str, str]]:
    """(layer, relation, column, class or '', description) for every column in the YAML."""
    y = _yaml()
    rows = []
    for path in yaml_files():
        doc = y.load(path.read_text()) or {}
        for layer, relation, entry in entries(doc, path):
            for col in entry.get("columns") or []:
                meta = (col.get("config") or {}).get("meta") or col.get("meta") or {}
                desc = " ".join(str(col.get("description") or "").split())
                rows.append((layer, relation, col["name"], str(meta.get("personal_data") or ""), desc))
    return rows


def render() -> str:
    rows = classification()
    out = ["# Personal data: what is kept where, why, and for how long", "",
           "Generated by `python scripts/personal_data.py docs` from the `config.meta.personal_data` of every",
           "column in the dbt YAML (`dbt_project/models/**.yml`); a test fails when it is stale or when a",
           "column has no class. Erasure and retention: README, section \"Personal data\".", "",
           "| class | meaning |", "|---|---|"]
    out += [f"| `{c}` | {m} |" for c, m in CLASSES.items()]
    for layer, (why, how_long) in LAYERS.items():
        relations: dict[str, list[tuple[str, str]]] = {}
        for lay, relation, column, cls, _ in rows:
            if lay == layer:
                relations.setdefault(relation, []).append((column, cls))
        if not relations:
            continue
        out += ["", f"## {layer}", "", f"Why: {why}.", "", f"How long: {how_long}.", "",
                "| table | identifier | personal | special | free_text | compensation |", "|---|---|---|---|---|---|"]
        for relation in sorted(relations):
            by_class = {c: [col for col, k in relations[relation] if k == c] for c in CLASSES}
            cells = [", ".join(f"`{c}`" for c in by_class[k]) or "-" for k in list(CLASSES)[1:]]
            out.append(f"| `{relation}` | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def classify(work_db: str) -> int:
    """Add the columns the built warehouse has and the YAML lacks; classify the unclassified."""
    import duckdb
    from ruamel.yaml.util import load_yaml_guess_indent

    con = duckdb.connect(work_db, read_only=True)
    columns: dict[str, list[str]] = {}
    for schema, table, column in con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema in ('raw', 'staging', 'intermediate', 'reporting', 'restricted') "
            "order by table_schema, table_name, ordinal_position").fetchall():
        columns.setdefault(table if schema != "raw" else f"raw.{table}", []).append(column)
    con.close()
    y = _yaml()
    changed = 0
    for path in yaml_files():
        # keep each file's own indentation, so the diff is the classification only
        _, sequence_indent, offset = load_yaml_guess_indent(path.read_text())
        mapping_indent = 2
        doc = y.load(path.read_text())      # quotes kept: "5" must stay a string
        if not doc:
            continue
        touched = False
        for _, relation, entry in entries(doc, path):
            built = columns.get(relation, [])
            listed = {c["name"] for c in entry.get("columns") or []}
            if built and "columns" not in entry:
                entry["columns"] = []
            for name in built:
                if name not in listed:
                    entry["columns"].append({"name": name})
            person = any(rule(relation, c, False) == "identifier" for c in built or listed)
            for col in entry.get("columns") or []:
                if "config" not in col:
                    col["config"] = _flow({"meta": _flow({})})
                meta = col["config"].setdefault("meta", _flow({}))
                if "personal_data" not in meta:
                    meta["personal_data"] = rule(relation, col["name"], person)
                    touched = True
        if touched:
            y.indent(mapping=mapping_indent, sequence=sequence_indent, offset=offset)
            y.dump(doc, path)
            changed += 1
    print(f"classified columns in {changed} YAML files")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("docs")
    d.add_argument("--check", action="store_true")
    c = sub.add_parser("classify")
    c.add_argument("work_db")
    args = parser.parse_args(argv)
    if args.command == "classify":
        return classify(args.work_db)
    text = render()
    if args.check:
        if not DOC.exists() or DOC.read_text() != text:
            print(f"{DOC.relative_to(REPO)} is stale: run python scripts/personal_data.py docs", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text)
    print(f"wrote {DOC.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
