"""Import every module that defines tables, so Base.metadata knows the whole schema (Alembic, tests)."""

from service.store import models  # noqa: F401
