"""Web tests reuse the API harness (app over SQLite and PostgreSQL, scripted detector, keys per role)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from argon2 import PasswordHasher

from tests.api.conftest import Harness, harness, make_harness  # noqa: F401  (fixtures re-exported for tests/web)
from tests.web.support import add_people


@pytest.fixture
def site(make_harness: Callable[..., Harness]) -> Harness:  # noqa: F811
    """The harness plus one user per role (see tests.web.support.PEOPLE)."""
    h = make_harness()
    add_people(h)
    return h


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests hash many passwords on shared CPUs: same algorithm (argon2id), minimal cost parameters."""
    monkeypatch.setattr("service.auth.users._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
