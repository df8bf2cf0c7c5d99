"""Import every module that defines tables, so Base.metadata knows the whole schema (Alembic, tests)."""

from service.store import (
    auth_models,  # noqa: F401  (users, web sessions, audit log)
    campaign_models,  # noqa: F401  (campaign reports as made and sent)
    cluster_models,  # noqa: F401  (cluster workers, partition leases)
    delivery_models,  # noqa: F401  (outbox, escalations)
    models,  # noqa: F401  (site, frames, hazards, evidence, keys, zone overrides)
    report_models,  # noqa: F401  (resident reports: tracking codes, reporters' contacts)
    watch_models,  # noqa: F401  (fixtures, lift entries)
)
