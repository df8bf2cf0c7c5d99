"""Escalation: missed deadlines climb the ladder, once, derived from the database — SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from service.delivery.escalation import Escalated, EscalationScheduler
from service.delivery.service import DeliveryService
from service.hazards.routing import assign
from service.store import models as m
from service.store.db import Database
from service.store.delivery_models import Delivery, HazardEscalation
from service.store.hazard_writer import NewHazard
from tests.delivery.conftest import MakeEnv
from tests.delivery.receivers import DedupReceiver
from tests.delivery.support import site_with, verify_signature, webhook

T = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)
AGENCIES = ("pm-lanting", "ps-chengguan", "fb-county", "co-county", "tp-county")


def everyone(url: str, escalation: dict | None = None):
    return site_with({a: [webhook(f"{url}/{a}")] for a in AGENCIES}, escalation)


def events_by_agency(receiver) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {}
    for request in receiver.requests:
        seen.setdefault(request.path.strip("/"), []).append(request.json()["event"])
    return seen


def drain(env) -> None:
    while env.dispatch().claimed:
        pass


def test_missed_acknowledge_deadline_escalates_once_and_is_delivered(make_env: MakeEnv, receivers) -> None:
    receiver = receivers(DedupReceiver(verify_signature))
    env = make_env(everyone(receiver.url))
    hazard_id = env.open_hazard(at=T)
    scheduler = env.service.escalation
    assert scheduler.run_once(T + timedelta(minutes=29)) == []
    assert scheduler.run_once(T + timedelta(minutes=31)) == [Escalated(hazard_id, "acknowledge", 1, ("ps-chengguan",))]
    assert scheduler.run_once(T + timedelta(minutes=32)) == []
    restarted = EscalationScheduler(
        env.db, lambda: env.site, env.writer
    )  # nothing in memory: derived from the database
    assert restarted.run_once(T + timedelta(hours=1)) == []

    hazard = env.hazard(hazard_id)
    entry = hazard.history[-1]
    assert (entry.action, entry.actor) == ("escalated", "system:escalation")
    assert "acknowledge deadline 2026-05-01 08:30 +0800 missed: escalated to step 1: ps-chengguan" in entry.note
    due = "2026-05-01T00:30:00+00:00"
    assert entry.params == {"stage": "acknowledge", "due_at": due, "level": 1, "agencies": ["ps-chengguan"]}
    drain(env)
    assert events_by_agency(receiver) == {
        "pm-lanting": ["opened", "escalated"],
        "ps-chengguan": ["opened", "escalated"],
    }
    body = receiver.requests[-1].json()
    assert body["escalation"]["stage"] == "acknowledge" and body["escalation"]["level"] == 1
    assert body["escalation"]["agencies"] == ["ps-chengguan"]
    assert body["escalation"]["due_at"] == (T + timedelta(minutes=30)).isoformat()


def test_after_an_outage_both_deadlines_climb_to_the_top_and_new_recipients_follow(make_env, receivers) -> None:
    receiver = receivers(DedupReceiver(verify_signature))
    env = make_env(everyone(receiver.url))
    hazard_id = env.open_hazard(at=T)
    done = env.service.escalation.run_once(T + timedelta(hours=25))
    assert [(e.stage, e.level, e.agency_ids) for e in done] == [
        ("acknowledge", 1, ("ps-chengguan",)),
        ("rectify", 2, ("fb-county", "co-county")),
    ]
    recipients = {r.agency_id: r.reason for r in env.hazard(hazard_id).recipients}
    assert recipients["fb-county"] == recipients["co-county"] == "escalation"
    env.act(hazard_id, "rectified")
    drain(env)
    seen = events_by_agency(receiver)
    assert seen["pm-lanting"] == ["opened", "escalated", "escalated", "rectified"]
    assert seen["fb-county"] == seen["co-county"] == ["escalated", "rectified"]  # from their step on
    assert "tp-county" not in seen
    assert env.service.escalation.run_once(T + timedelta(days=3)) == []  # closed hazards never escalate


def test_acknowledged_in_time_escalates_only_when_rectify_is_missed(make_env: MakeEnv, receivers) -> None:
    env = make_env(everyone(receivers().url))
    hazard_id = env.open_hazard(at=T)
    env.act(hazard_id, "acknowledged")
    scheduler = env.service.escalation
    assert scheduler.run_once(T + timedelta(hours=23)) == []
    assert scheduler.run_once(T + timedelta(hours=24, minutes=1)) == [
        Escalated(hazard_id, "rectify", 1, ("ps-chengguan",))
    ]
    other = env.open_hazard(at=T)
    env.act(other, "rectified")
    assert scheduler.run_once(T + timedelta(days=2)) == []


def test_confirmed_major_goes_straight_to_the_top(make_env: MakeEnv, receivers) -> None:
    env = make_env(everyone(receivers().url))
    hazard_id = env.open_hazard(at=T)
    with env.db.session() as session:
        hazard = session.get(m.HazardEvent, hazard_id)
        hazard.severity, hazard.confirmed = "major", True
        env.writer.record(session, hazard, "confirmed", "police:ps", "blocks the only fire engine access")
    scheduler = env.service.escalation
    assert scheduler.run_once(T + timedelta(minutes=1)) == [
        Escalated(hazard_id, "major", 2, ("fb-county", "co-county"))
    ]
    assert "formal supervision" in env.hazard(hazard_id).history[-1].note
    assert [e.level for e in scheduler.run_once(T + timedelta(minutes=31))] == [2]  # already at the top: stays
    assert scheduler.run_once(T + timedelta(minutes=40)) == []


def test_a_lane_narrowed_below_the_minimum_is_major_on_the_ladder_once_confirmed(make_env: MakeEnv, receivers) -> None:
    env = make_env(everyone(receivers().url))
    hazard_id = env.open_hazard(at=T, clear_width_m=3.1)  # as the pipeline grades it: below 4.0 m is major
    scheduler = env.service.escalation
    assert scheduler.run_once(T + timedelta(minutes=1)) == []  # unconfirmed: the normal deadlines apply
    with env.db.session() as session:
        hazard = session.get(m.HazardEvent, hazard_id)
        assert hazard.severity == "major"
        hazard.confirmed = True  # confirmed without a grade: the measured one stands
        env.writer.record(session, hazard, "confirmed", "police:ps", "severity major")
    assert scheduler.run_once(T + timedelta(minutes=2)) == [
        Escalated(hazard_id, "major", 2, ("fb-county", "co-county"))
    ]


def test_deadlines_and_ladder_come_from_the_site_file(make_env: MakeEnv, receivers) -> None:
    escalation = {
        "ladder": [["county_office"]],
        "deadlines": [{"zone_type": "fire_lane", "category": "vehicle", "acknowledge": "5m", "rectify": "1h"}],
    }
    env = make_env(everyone(receivers().url, escalation))
    lane = env.open_hazard(at=T)
    stair = env.open_hazard(camera="lanting-b3-stair", zone="stair-b3", category="clutter", at=T)
    assert env.service.escalation.run_once(T + timedelta(minutes=6)) == [
        Escalated(lane, "acknowledge", 1, ("co-county",))
    ]
    assert [e.hazard_id for e in env.service.escalation.run_once(T + timedelta(minutes=31))] == [stair]  # default


def test_two_schedulers_at_once_never_escalate_the_same_hazard_twice(make_env: MakeEnv, receivers) -> None:
    env = make_env(everyone(receivers().url))
    hazards = [env.open_hazard(at=T) for _ in range(6)]
    second = Database(env.db.url)  # another instance: its own engine, connections and outbox
    other = DeliveryService(second, lambda: env.site, env.settings, env.writer, env.outbox)
    try:
        schedulers = [env.service.escalation, other.escalation]
        barrier = threading.Barrier(2)
        results: list[list[Escalated]] = [[], []]

        def run(i: int) -> None:
            barrier.wait(timeout=10)
            for _ in range(3):  # several rounds each, racing
                results[i] += schedulers[i].run_once(T + timedelta(minutes=31))

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        done = results[0] + results[1]
        assert sorted(e.hazard_id for e in done) == hazards  # each exactly once, by one of them
    finally:
        other.close()
        second.dispose()
    with env.db.session() as session:
        assert session.scalar(select(func.count()).select_from(HazardEscalation)) == len(hazards)
        escalated = select(func.count()).where(m.HazardHistory.action == "escalated")
        assert session.scalar(escalated) == len(hazards)
        messages = select(func.count()).where(Delivery.event == "escalated")
        assert session.scalar(messages) == 2 * len(hazards)  # property company and police station, once each


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # row locks; SQLite runs one process
def test_a_hazard_locked_by_another_instance_is_skipped_until_released(make_env: MakeEnv, receivers) -> None:
    env = make_env(everyone(receivers().url))
    hazard_id = env.open_hazard(at=T)
    due = T + timedelta(minutes=31)
    with env.db.session() as holder:  # another instance is escalating this hazard right now
        holder.scalars(select(m.HazardEvent).where(m.HazardEvent.id == hazard_id).with_for_update()).one()
        assert env.service.escalation.run_once(due) == []  # SKIP LOCKED: neither waits nor duplicates
    assert [e.stage for e in env.service.escalation.run_once(due)] == ["acknowledge"]


def test_a_hazard_no_camera_saw_climbs_the_ladder_on_its_kinds_deadline(make_env: MakeEnv, receivers) -> None:
    """An inspector's hazard (no camera, no zone) is held to its duty's deadline and escalated like any other."""
    env = make_env(everyone(receivers(DedupReceiver(verify_signature)).url))
    site = env.site
    new = NewHazard(
        engine_key="inspection:lanting:1",
        kind="hydrant_blocked",
        source="inspection",
        camera_id=None,
        compound_id="lanting",
        zone_key="",
        zone_type="",
        category="clutter",
        class_name="hydrant_blocked",
        first_seen_at=T,
        opened_at=T,
        location="Building 3, ground floor",
    )
    with env.db.session() as session:
        hazard_id = env.writer.open(
            session, new, assign(site, "lanting", new.kind, T), "bicycles against the hydrant"
        ).id
    duty = site.duty("hydrant_blocked")
    scheduler = env.service.escalation
    assert scheduler.run_once(T + timedelta(hours=duty.acknowledge_hours) - timedelta(minutes=1)) == []
    late = T + timedelta(hours=duty.acknowledge_hours, minutes=1)
    assert scheduler.run_once(late) == [Escalated(hazard_id, "acknowledge", 1, ("ps-chengguan",))]
    drain(env)
    assert [d.event for d in env.deliveries(hazard_id=hazard_id, agency_id="pm-lanting")] == ["opened", "escalated"]
