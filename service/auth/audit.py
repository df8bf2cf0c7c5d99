"""The audit log: one row per evidence view and per action, whoever did it (person or machine).

Written in the same transaction as the thing it records, so an action and its audit row commit together.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.auth.keys import Principal
from service.auth.users import UserPrincipal
from service.store.auth_models import AuditEntry


def via_of(who: Principal) -> str:
    """'web' for a logged-in person, 'api' for a key."""
    return "web" if isinstance(who, UserPrincipal) else "api"


def audit(
    session: Session,
    who: Principal | None,
    action: str,
    object_type: str = "",
    object_id: object = "",
    detail: str = "",
    ip: str = "",
    actor: str | None = None,
    via: str | None = None,
) -> AuditEntry:
    """Add one audit row. `actor` names someone without a principal (a failed login, the CLI); `via` says how
    they came when the principal cannot ("cli")."""
    entry = AuditEntry(
        actor=(actor or (who.actor if who else "anonymous"))[:100],
        role=who.role if who else "",
        via=via or (via_of(who) if who else "web"),
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:64],
        detail=detail[:4000],
        ip=ip[:64],
    )
    session.add(entry)
    return entry
