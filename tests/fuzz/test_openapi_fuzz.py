"""Schemathesis over the whole OpenAPI schema, on SQLite and PostgreSQL, with an admin and a gateway key:
no input may answer a 5xx, and every answer must match what the schema documents (status, type, body)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from tests.api.conftest import Harness

EXAMPLES = 40  # per operation: the whole run fits the CI budget
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
"""Not `positive_data_acceptance`: a schema-valid request may still be refused for what it says (a camera that
is not in the site file, a week outside the campaign), and such a refusal is a documented 4xx."""


def test_no_input_is_a_server_error_or_off_the_schema(harness: Harness) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", harness.client.app)
    keys = [harness.headers(who) for who in ("admin", "gateway")]
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def check(case) -> None:
            for headers in keys:
                case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            check()
        except (
            Exception,
            BaseExceptionGroup,
        ) as exc:  # collect every operation's first failure, then report them together
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert failures == [], "\n\n".join(failures)
