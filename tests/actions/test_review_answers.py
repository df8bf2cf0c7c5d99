"""A property company's "not an obstruction / please review", and undoing a confirm or a dismissal: written
through the hazard writer (history, outbox), audited, scoped — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from service.actions.errors import Conflict, Forbidden, Invalid, NotFound
from service.actions.hazards import HazardCommand, act_on_hazard, available, load_visible
from service.actions.snapshot import FIELDS
from service.actions.undo import offer, undo
from service.auth.keys import Principal
from service.camera_locks import CameraLocks
from service.scene.scenes import StaticScenes
from service.store.auth_models import AuditEntry
from service.store.db import utcnow
from service.store.queries import HazardFilters, hazard_page
from tests.delivery.support import DeliveryEnv, site_with, webhook

PROPERTY = Principal("pm-lanting", "property", "pm-lanting")
OTHER_PROPERTY = Principal("pm-huayuan", "property", "pm-huayuan")
POLICE = Principal("ps", "police", "ps-chengguan")
OTHER_OFFICER = Principal("ps-2", "police", "ps-chengguan")  # same station, another person
FIRE = Principal("fb", "fire", "fb-county")
WINDOW_S = 300.0
T = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[DeliveryEnv]:
    hooks = {a: [webhook(f"http://127.0.0.1:9/{a}")] for a in ("pm-lanting", "ps-chengguan")}  # never dispatched
    environment = DeliveryEnv(database_url, tmp_path, site_with(hooks))
    yield environment
    environment.close()


def act(env: DeliveryEnv, who: Principal, hazard_id: int, action: str, **command: object):
    scenes = StaticScenes(env.db, CameraLocks())
    with env.db.session() as session:
        return act_on_hazard(session, env.writer, scenes, who, hazard_id, action, HazardCommand(**command))


def take_back(env: DeliveryEnv, who: Principal, hazard_id: int, now: datetime | None = None):
    with env.db.session() as session:
        return undo(session, env.writer, who, hazard_id, WINDOW_S, now)


def judged(env: DeliveryEnv, hazard_id: int) -> dict:
    hazard = env.hazard(hazard_id)
    return {name: getattr(hazard, name) for name in FIELDS}


def disputed_for(env: DeliveryEnv, who: Principal) -> list[int]:
    with env.db.session() as session:
        return [h.id for h in hazard_page(session, who, HazardFilters(disputed=True), "newest", 50, None).items]


def test_property_disputes_its_own_hazard_and_the_police_decide(env: DeliveryEnv) -> None:
    hazard_id = env.open_hazard()
    with pytest.raises(NotFound):
        act(env, OTHER_PROPERTY, hazard_id, "dispute", reason="not_an_obstruction")  # another company's compound
    with pytest.raises(Forbidden):
        act(env, POLICE, hazard_id, "dispute", reason="not_an_obstruction")  # the police decide, they do not dispute
    with pytest.raises(Invalid):
        act(env, PROPERTY, hazard_id, "dispute", reason="please_review")  # "please review" says what to look at
    with pytest.raises(Invalid):
        act(env, PROPERTY, hazard_id, "dispute", reason="false_positive")  # a police reason, not an answer
    assert [e.action for e in env.hazard(hazard_id).history] == ["opened"]

    detail = act(env, PROPERTY, hazard_id, "dispute", reason="not_an_obstruction", note="loading bay, 5 min")
    assert (detail.status, detail.disputed, detail.closed_at) == ("open", True, None)  # not closed: flagged
    entry = detail.history[-1]
    assert (entry.action, entry.actor) == ("disputed", "property:pm-lanting")
    assert entry.params == {"reason": "not_an_obstruction", "text": "loading bay, 5 min"}
    with pytest.raises(Conflict):
        act(env, PROPERTY, hazard_id, "dispute", reason="please_review", note="again")  # already waiting
    assert {d.agency_id for d in env.deliveries(event="disputed")} == {"ps-chengguan", "pm-lanting"}
    assert disputed_for(env, POLICE) == [hazard_id]
    assert disputed_for(env, OTHER_PROPERTY) == []
    with env.db.session() as session:
        offered = available(load_visible(session, POLICE, hazard_id), "police")
        assert offered["dismiss"] and offered["confirm"] and not offered["dispute"]
        audited = session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(hazard_id))).all()
        assert audited == ["hazard.dispute"]

    detail = act(env, POLICE, hazard_id, "dismiss", reason="not_an_obstruction", note="checked on site")
    assert (detail.status, detail.disputed) == ("dismissed", False)
    assert disputed_for(env, POLICE) == []


def test_confirm_then_undo_within_the_window_restores_everything(env: DeliveryEnv) -> None:
    hazard_id = env.open_hazard()
    act(env, PROPERTY, hazard_id, "dispute", reason="please_review", note="a registered van")
    before = judged(env, hazard_id)
    detail = act(env, FIRE, hazard_id, "confirm", severity="major", note="only access road")
    assert (detail.confirmed, detail.severity, detail.supervised, detail.disputed) == (True, "major", True, False)
    with env.db.session() as session:
        hazard = load_visible(session, FIRE, hazard_id)
        made = offer(hazard, FIRE, utcnow(), WINDOW_S)
        assert made is not None and made.action == "confirmed" and 0 < made.left_s <= WINDOW_S
        assert offer(hazard, POLICE, utcnow(), WINDOW_S) is None  # only whoever confirmed it

    undone = take_back(env, FIRE, hazard_id)
    assert judged(env, hazard_id) == before  # status, confirmed, severity, supervision, reason, dispute flag
    assert (undone.confirmed, undone.severity, undone.disputed) == (False, "minor", True)
    actions = [e.action for e in undone.history]
    assert actions == ["opened", "disputed", "confirmed", "supervised", "undone"]
    confirmed = next(e for e in env.hazard(hazard_id).history if e.action == "confirmed")
    last = undone.history[-1]
    assert last.actor == "fire:fb" and (last.from_status, last.to_status) == (None, None)
    assert last.params == {
        "undone": "confirmed",
        "history_id": confirmed.id,
        "by": "fire:fb",
        "done_at": confirmed.at.isoformat(),
    }
    assert "messages already sent are not recalled" in last.note
    assert {d.agency_id for d in env.deliveries(event="undone")} == {"ps-chengguan", "pm-lanting"}
    with env.db.session() as session:
        audited = session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(hazard_id))).all()
    assert audited == ["hazard.dispute", "hazard.confirm", "hazard.undo"]
    assert disputed_for(env, POLICE) == [hazard_id]  # back in the queue, awaiting review
    with pytest.raises(Conflict) as nothing:
        take_back(env, FIRE, hazard_id)  # undos go back one judgement; there is no other
    assert nothing.value.reason == "nothing_to_undo"


def test_an_undone_dismissal_is_active_again_and_escalates(env: DeliveryEnv) -> None:
    hazard_id = env.open_hazard(at=T)
    before = judged(env, hazard_id)
    act(env, POLICE, hazard_id, "dismiss", reason="false_positive", note="reflection")
    hazard = env.hazard(hazard_id)
    assert hazard.status == "dismissed" and hazard.closed_at is not None
    assert env.service.escalation.run_once(T + timedelta(minutes=31)) == []  # a closed hazard does not climb

    detail = take_back(env, POLICE, hazard_id)
    assert judged(env, hazard_id) == before
    assert (detail.status, detail.closed_at, detail.dismiss_reason) == ("open", None, None)
    last = detail.history[-1]
    assert (last.action, last.from_status, last.to_status) == ("undone", "dismissed", "open")
    done = env.service.escalation.run_once(T + timedelta(minutes=32))
    assert [(e.hazard_id, e.stage) for e in done] == [(hazard_id, "acknowledge")]
    act(env, PROPERTY, hazard_id, "acknowledge")  # the lifecycle goes on from where it was
    assert env.hazard(hazard_id).status == "acknowledged"


def test_undo_is_refused_after_the_window_for_someone_else_and_out_of_scope(env: DeliveryEnv) -> None:
    hazard_id = env.open_hazard()
    act(env, POLICE, hazard_id, "confirm")
    before = judged(env, hazard_id)
    with pytest.raises(Forbidden):
        take_back(env, OTHER_OFFICER, hazard_id)
    with pytest.raises(NotFound):
        take_back(env, OTHER_PROPERTY, hazard_id)
    with pytest.raises(Conflict) as late:
        take_back(env, POLICE, hazard_id, now=utcnow() + timedelta(seconds=WINDOW_S + 1))
    assert late.value.reason == "undo_expired"
    with env.db.session() as session:
        hazard = load_visible(session, POLICE, hazard_id)
        assert offer(hazard, POLICE, utcnow() + timedelta(seconds=WINDOW_S + 1), WINDOW_S) is None
    assert judged(env, hazard_id) == before
    assert [e.action for e in env.hazard(hazard_id).history] == ["opened", "confirmed"]


def test_a_disputed_dismissal_undone_waits_for_review_again(env: DeliveryEnv) -> None:
    hazard_id = env.open_hazard()
    act(env, PROPERTY, hazard_id, "dispute", reason="not_an_obstruction")
    act(env, POLICE, hazard_id, "dismiss", reason="not_an_obstruction")
    assert disputed_for(env, POLICE) == []
    take_back(env, POLICE, hazard_id)
    assert disputed_for(env, POLICE) == [hazard_id]
    assert env.hazard(hazard_id).status == "open"
