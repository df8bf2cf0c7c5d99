"""The API harness and the delivery test bed, for the report tests."""

from __future__ import annotations

from tests.api.conftest import harness, make_harness  # noqa: F401  (fixtures re-exported for tests/reports)
from tests.delivery.conftest import make_env, mqtt_broker, receivers, subscribe  # noqa: F401  (delivery test bed)
