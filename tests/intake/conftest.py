"""Intake tests reuse the API harness (app over SQLite and PostgreSQL, scripted detector, keys per role)."""

from __future__ import annotations

from tests.api.conftest import harness, make_harness  # noqa: F401  (fixtures re-exported for tests/intake)
