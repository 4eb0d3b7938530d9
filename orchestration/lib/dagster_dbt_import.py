"""dagster-dbt, imported for a process that never runs dbt itself.

Where it can, dagster-dbt imports dbt-core (~2.5 s of one core here, paid by every run's
process and every code-location load) for dbt's own enums and an optional in-process
adapter. The bridge runs dbt in dbt's own process (`bridge-dbt`, dbt_prewarm) and uses
neither, so dagster-dbt is imported here as where dbt-core is not installed: its supported
mode for dbt Fusion or a dbt in another environment, with its own copies of those enums.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import sys
from collections.abc import Iterator
from types import ModuleType


class _DbtCoreHidden(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        if fullname == "dbt" or fullname.startswith("dbt."):
            raise ModuleNotFoundError(f"No module named {fullname!r} (hidden from dagster-dbt)", name=fullname)


@contextlib.contextmanager
def _dbt_core_hidden() -> Iterator[None]:
    finder = _DbtCoreHidden()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def import_dagster_dbt() -> ModuleType:
    """dagster_dbt, in its dbt-core-free mode unless dbt-core is loaded already (a process
    that runs dbt in-process, such as a test, gets the ordinary mode: nothing to save)."""
    hide = "dagster_dbt" not in sys.modules and "dbt" not in sys.modules
    with _dbt_core_hidden() if hide else contextlib.nullcontext():
        import dagster_dbt
    return dagster_dbt
