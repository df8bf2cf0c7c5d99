"""The API harness, for the device tests."""

from __future__ import annotations

from tests.api.conftest import harness, make_harness  # noqa: F401  (fixtures re-exported for tests/devices)
