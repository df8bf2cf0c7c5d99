"""The domain layer without HTTP: roles, scope, lifecycle and refusals come back as domain errors, and every
action is written through the hazard writer (history, outbox) and audited — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from service.actions.errors import Conflict, Forbidden, Invalid, NotFound
from service.actions.hazards import HazardCommand, act_on_hazard, available, load_visible
from service.actions.proof import save_after_photo
from service.auth.keys import Principal
from service.camera_locks import CameraLocks
from service.config.settings import DEMO_SITE
from service.config.site import load_site
from service.scene.scenes import StaticScenes
from service.store import models as m
from service.store.auth_models import AuditEntry
from tests.delivery.support import DeliveryEnv, jpeg, site_with, webhook

PROPERTY = Principal("pm-lanting", "property", "pm-lanting")
OTHER_PROPERTY = Principal("pm-huayuan", "property", "pm-huayuan")
POLICE = Principal("ps", "police", "ps-chengguan")
COUNTY = Principal("county", "county")


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[DeliveryEnv]:
    environment = DeliveryEnv(database_url, tmp_path, load_site(DEMO_SITE))
    yield environment
    environment.close()


def act(env: DeliveryEnv, who: Principal, hazard_id: int, action: str, **command: object):
    scenes = StaticScenes(env.db, CameraLocks())
    with env.db.session() as session:
        return act_on_hazard(session, env.writer, scenes, who, hazard_id, action, HazardCommand(**command))


def test_the_campaign_path_is_written_audited_and_answered(env: DeliveryEnv) -> None:
    hazard_id = env.open_hazard()
    assert act(env, PROPERTY, hazard_id, "acknowledge").status == "acknowledged"
    detail = act(env, PROPERTY, hazard_id, "rectify", note="car towed")
    assert detail.status == "rectified" and detail.closed_at is not None
    assert [h.action for h in detail.history] == ["opened", "acknowledged", "rectified"]
    with env.db.session() as session:
        audited = session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(hazard_id))).all()
    assert audited == ["hazard.acknowledge", "hazard.rectify"]


def test_refusals_are_domain_errors_and_change_nothing(env: DeliveryEnv) -> None:
    hazard_id = env.open_hazard()
    with pytest.raises(Forbidden):
        act(env, PROPERTY, hazard_id, "dismiss", reason="false_positive")  # only police and admins dismiss
    with pytest.raises(Forbidden):
        act(env, COUNTY, hazard_id, "acknowledge")  # the county reads, it does not act
    with pytest.raises(NotFound):
        act(env, OTHER_PROPERTY, hazard_id, "acknowledge")  # another company's compound: as if absent
    with pytest.raises(Invalid):
        act(env, POLICE, hazard_id, "dismiss")  # a dismissal needs a reason
    with pytest.raises(Invalid):
        act(env, PROPERTY, hazard_id, "note", note="   ")
    assert [h.action for h in env.hazard(hazard_id).history] == ["opened"]
    act(env, POLICE, hazard_id, "dismiss", reason="false_positive", note="reflection")
    with pytest.raises(Conflict):
        act(env, PROPERTY, hazard_id, "rectify")  # dismissed is final
    with pytest.raises(Conflict):
        act(env, POLICE, hazard_id, "confirm")
    assert env.hazard(hazard_id).dismiss_reason == "false_positive: reflection"


def test_confirm_grades_and_the_action_reaches_the_outbox(database_url: str, tmp_path: Path) -> None:
    site = site_with({"pm-lanting": [webhook("http://127.0.0.1:9/hook")]})  # never dispatched here
    env = DeliveryEnv(database_url, tmp_path, site)
    try:
        hazard_id = env.open_hazard()
        detail = act(env, POLICE, hazard_id, "confirm", severity="major", note="only access road")
        assert detail.confirmed and detail.severity == "major"
        assert detail.history[-1].note == "severity major: only access road"
        with env.db.session() as session:
            confirmed = session.scalars(
                select(m.HazardHistory.id).where(
                    m.HazardHistory.hazard_id == hazard_id, m.HazardHistory.action == "confirmed"
                )
            ).one()
        assert [(d.event, d.history_id, d.agency_id) for d in env.deliveries(event="confirmed")] == [
            ("confirmed", confirmed, "pm-lanting")
        ]
    finally:
        env.close()


def test_visibility_and_what_a_page_may_offer(env: DeliveryEnv) -> None:
    hazard_id = env.open_hazard()
    with env.db.session() as session:
        hazard = load_visible(session, POLICE, hazard_id)
        assert available(hazard, "property") == {
            "confirm": False,
            "dismiss": False,
            "acknowledge": True,
            "rectify": True,
            "note": True,
            "photo": True,
            "accept": False,  # only a resident's report waiting for review is accepted or rejected
            "reject": False,
            "dispute": True,  # "not an obstruction / please review" (tests/actions/test_review_answers.py)
            "release": False,  # only a lift's alarm is released (tests/actions/test_lifts.py)
        }
        assert available(hazard, "county") == dict.fromkeys(available(hazard, "county"), False)
        with pytest.raises(NotFound):
            load_visible(session, OTHER_PROPERTY, hazard_id)


def test_after_photos_are_checked_numbered_and_kept(env: DeliveryEnv) -> None:
    hazard_id = env.open_hazard()
    limits = (1024 * 1024, 40_000_000)
    with env.db.session() as session:
        with pytest.raises(Invalid) as refused:
            save_after_photo(session, env.writer, PROPERTY, hazard_id, b"not a picture", *limits)
        assert refused.value.reason == "photo_invalid"
        with pytest.raises(Invalid) as too_big:
            save_after_photo(session, env.writer, PROPERTY, hazard_id, jpeg((1, 2, 3)), 10, limits[1])
        assert too_big.value.reason == "photo_too_large"
        with pytest.raises(Forbidden):
            save_after_photo(session, env.writer, COUNTY, hazard_id, jpeg((1, 2, 3)), *limits)
        first = save_after_photo(session, env.writer, PROPERTY, hazard_id, jpeg((10, 200, 10)), *limits)
        second = save_after_photo(session, env.writer, POLICE, hazard_id, jpeg((10, 10, 200)), *limits)
    assert (first, second) == ("after-1", "after-2")
    hazard = env.hazard(hazard_id)
    photos = [e for e in hazard.evidence if e.kind.startswith("after-")]
    assert [env.evidence.read_verified(e.path, e.sha256)[:2] for e in photos] == [b"\xff\xd8", b"\xff\xd8"]
    assert [h.action for h in hazard.history][-2:] == ["after_photo", "after_photo"]
