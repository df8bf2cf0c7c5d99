"""Web tests reuse the API harness (app over SQLite and PostgreSQL, scripted detector, keys per role)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.api.conftest import Harness, make_harness  # noqa: F401  (fixture re-exported for tests/web)
from tests.web.support import add_people


@pytest.fixture
def site(make_harness: Callable[..., Harness]) -> Harness:  # noqa: F811
    """The harness plus one user per role (see tests.web.support.PEOPLE)."""
    h = make_harness()
    add_people(h)
    return h
