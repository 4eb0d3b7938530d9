"""Which rows of a frame could fail an expectation, as a DuckDB predicate.

Great Expectations judges every row it is given; handing it every row of a large frame
costs far more in pandas than DuckDB needs to tell which rows cannot fail. So, per
row-level expectation, a SQL condition that is true for every row GX could count as
unexpected (a superset: it may select rows GX then accepts, never the reverse). Rows where
no condition holds pass every expectation of the frame: DuckDB only counts them, and their
missing values (``missing_values``: what GX's pandas code counts as missing, never as
unexpected), and GX validates the rest. An expectation, a column type or an argument this
module does not know selects every row (``true``), which is exactly the validation without
pushdown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from orchestration.lib.quality.suite_model import Expect

EVERY_ROW = "true"

_FLOATS = {"double", "float"}
_NUMBERS = _FLOATS | {"tinyint", "smallint", "integer", "bigint", "hugeint", "utinyint", "usmallint", "uinteger",
                      "ubigint"}
# GX's pandas regex runs Python's ``re.search``; DuckDB's runs RE2. The two agree on printable
# ASCII without line breaks, so a value with any other character is always left to GX.
_NOT_PRINTABLE_ASCII = "[^ -~]"


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def may_fail(e: Expect, types: Mapping[str, str]) -> str:
    """A SQL condition true for every row ``e`` (as validated on a batch) could judge
    unexpected; ``types`` are the frame's column type ids (DuckDB's)."""
    kwargs = dict(e.kwargs)
    column = kwargs.pop("column", None)
    kind = types.get(column) if isinstance(column, str) else None
    if kind is None:
        return EVERY_ROW
    c = f'"{column}"'
    missing = _missing(c, kind)
    if e.gx_type == "ExpectColumnValuesToNotBeNull" and not kwargs:
        return missing
    # A value missing to pandas is never unexpected to these (GX counts it as missing): such rows
    # are left out here, and their number, counted by DuckDB, is the result's ``missing_count``.
    if e.gx_type == "ExpectColumnValuesToBeInSet" and set(kwargs) == {"value_set"}:
        values = _literals(kwargs["value_set"], kind)
        return EVERY_ROW if values is None else f"not ({missing}) and {c} not in ({values})"
    if e.gx_type == "ExpectColumnValuesToBeBetween" and kind in _NUMBERS:
        return _outside(c, missing, kwargs)
    if e.gx_type == "ExpectColumnValuesToMatchRegex" and kind == "varchar" and set(kwargs) == {"regex"}:
        regex = kwargs["regex"]
        return (f"not ({missing}) and (not regexp_matches({c}, {quote(regex)}) "
                f"or regexp_matches({c}, {quote(_NOT_PRINTABLE_ASCII)}))")
    return EVERY_ROW


def missing_values(e: Expect, types: Mapping[str, str]) -> str | None:
    """The condition of the values ``e`` counts as missing where ``may_fail`` leaves them out
    (DuckDB counts them over the whole frame), else None."""
    condition = may_fail(e, types)
    if e.gx_type == "ExpectColumnValuesToNotBeNull" or condition == EVERY_ROW:
        return None
    column = e.kwargs["column"]
    return _missing(f'"{column}"', types[column])


def _missing(c: str, kind: str) -> str:
    """What pandas counts as missing: a null, and a float's NaN (never null in DuckDB)."""
    return f"{c} is null" + (f" or isnan({c})" if kind in _FLOATS else "")


def _literals(values: Sequence[Any], kind: str) -> str | None:
    """The set as SQL literals of the column's own type (pandas ``isin`` never converts
    between types, DuckDB's ``in`` would), or None where that cannot be said."""
    if not values:
        return None
    if kind == "varchar" and all(isinstance(v, str) for v in values):
        return ", ".join(quote(v) for v in values)
    if kind == "boolean" and all(isinstance(v, bool) for v in values):
        return ", ".join("true" if v else "false" for v in values)
    return None


def _outside(c: str, missing: str, kwargs: dict[str, Any]) -> str:
    known = {"min_value", "max_value", "strict_min", "strict_max"}
    bounds = [kwargs.get("min_value"), kwargs.get("max_value")]
    if set(kwargs) - known or not all(b is None or _is_number(b) for b in bounds):
        return EVERY_ROW
    inside = []
    if bounds[0] is not None:
        inside.append(f"{c} {'>' if kwargs.get('strict_min') else '>='} {float(bounds[0])!r}")
    if bounds[1] is not None:
        inside.append(f"{c} {'<' if kwargs.get('strict_max') else '<='} {float(bounds[1])!r}")
    if not inside:
        return EVERY_ROW
    return f"not ({missing}) and not ({' and '.join(inside)})"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def candidates(expects: Sequence[Expect], types: Mapping[str, str]) -> str:
    """Rows any of ``expects`` could judge unexpected."""
    conditions = list(dict.fromkeys(may_fail(e, types) for e in expects))
    if not conditions or EVERY_ROW in conditions:
        return EVERY_ROW
    return " or ".join(f"({x})" for x in conditions)
