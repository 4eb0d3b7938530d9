"""Simulator fixtures: real subprocesses serving on loopback, the small `pilot` profile."""
from __future__ import annotations

import pytest

from simulator import Simulator


@pytest.fixture(scope="session")
def pilot(tmp_path_factory) -> Simulator:
    """A read-only pilot simulator shared by tests that do not change it."""
    with Simulator("pilot", seed=7, workdir=tmp_path_factory.mktemp("sim_pilot")) as sim:
        yield sim


@pytest.fixture()
def fresh(tmp_path) -> Simulator:
    """A pilot simulator of one's own, for tests that advance or inject."""
    with Simulator("pilot", seed=11, workdir=tmp_path / "sim") as sim:
        yield sim
