"""Tests wait on events, never on the clock: poll a condition until it holds. The ceiling is a
timeout for a hung process that fails with a message saying what never happened; it is not a
measurement, and no test asserts how long anything took."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def wait_until(condition: Callable[[], T], what: str | Callable[[], str], timeout: float = 120,
               interval: float = 0.1) -> T:
    """`condition()`'s first truthy result; fails naming `what` (a message, or a function that
    describes the state) if none comes within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"{what() if callable(what) else what} (waited {timeout:g} s)")
        time.sleep(interval)
    return result
