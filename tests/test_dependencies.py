"""Every third-party module the code or the tests import comes from a distribution pyproject.toml
declares, not one that happens to arrive with another package (which may drop it any release)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("orchestration", "connectors", "simulator", "tests", "scripts")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements = list(project["project"]["dependencies"])
    requirements += [r for group in project.get("dependency-groups", {}).values() for r in group
                     if isinstance(r, str)]
    return {_canonical(re.split(r"[\s<>=!~\[;]", r, maxsplit=1)[0]) for r in requirements}


def _imported() -> dict[str, str]:
    """Top-level module -> one file importing it, for modules neither stdlib nor this repository's."""
    ours = {p.stem for folder in FOLDERS for p in (ROOT / folder).rglob("*.py")} | set(FOLDERS)
    found: dict[str, str] = {}
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in ours:
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_imported_distribution_is_declared() -> None:
    declared, providers = _declared(), packages_distributions()
    imported = _imported()
    assert {"duckdb", "dagster", "pytest", "sqlglot"} <= set(imported)      # the scan sees imports
    undeclared = {module: (where, providers.get(module)) for module, where in imported.items()
                  if not {_canonical(d) for d in providers.get(module, [module])} & declared}
    assert not undeclared, f"imported but not declared in pyproject.toml (module: file, distributions): {undeclared}"
