"""Interoperability modules: the feeds against servers nobody on this project wrote, each run from
its own venv (tests/third_party.py). They run by default, in `make test`."""
import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "interop: against a third-party server in a venv of its own")
