"""Fixtures and hooks for the real-browser tests live in jlab.py (importable by name, unlike a
conftest, so that tests and benchmarks can use its helpers)."""

from jlab import *  # noqa: F403  (fixtures and pytest hooks)
from jlab import _start_server, _stop_server  # noqa: F401
