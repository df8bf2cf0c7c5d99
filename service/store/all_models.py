"""Import every module that defines tables, so Base.metadata knows the whole schema (Alembic, tests)."""

from service.auth import models as auth_models  # noqa: F401  (users, web sessions, audit log)
from service.delivery import models as delivery_models  # noqa: F401
from service.store import models  # noqa: F401
from service.web import models as web_models  # noqa: F401  (camera zone overrides)
