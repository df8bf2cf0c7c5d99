"""The API harness, for the fuzz run."""

from __future__ import annotations

from tests.api.conftest import harness, make_harness  # noqa: F401  (fixtures re-exported for tests/fuzz)
