"""Cooldown and digest: after a zone's hazard closes, the zone does not alert a recipient again within the
cooldown; one digest per window lists what was held, exactly once — SQLite and PostgreSQL, real receivers."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from service.config.site import Site, Zone, parse_site
from service.delivery.channels.base import Message
from service.delivery.channels.email import build_email
from service.delivery.channels.robots import wecom_payload
from service.delivery.cooldown import cooldown_for
from service.delivery.digest import DigestJob
from service.delivery.service import DeliveryService
from service.store import models as m
from service.store.db import Database, utcnow
from service.store.delivery_models import HELD, Delivery, DeliveryDigest
from tests.delivery.conftest import MakeEnv
from tests.delivery.receivers import DedupReceiver
from tests.delivery.support import site_data, verify_signature, webhook

ZONE = "fire-lane-north"


def cooled_site(url: str, police_cooldown: object = 0, zone_cooldown: str = "30m") -> Site:
    """The demo site: the north fire lane cools down 30 min, the site 20 min; the police channel never does."""
    police = webhook(f"{url}/ps-chengguan") | ({"cooldown": police_cooldown} if police_cooldown is not None else {})
    data = site_data({"pm-lanting": [webhook(f"{url}/pm-lanting")], "ps-chengguan": [police]})
    data["cooldown"] = "20m"
    for camera in data["cameras"]:
        for zone in camera["zones"]:
            if zone["id"] == ZONE:
                zone["cooldown"] = zone_cooldown
    return parse_site(data)


def drain(env) -> None:
    while env.dispatch().claimed:
        pass


def sent(receiver, agency: str) -> list[tuple[str, object]]:
    """(event, hazard id or the digest's hazard ids) of what one agency's receiver processed, in order."""
    out = []
    for request in receiver.requests:
        if request.path.strip("/") == agency and request.json()["idempotency_key"] in receiver.respond.processed:
            body = request.json()
            about = [h["id"] for h in body["hazards"]] if body["event"] == "digest" else body["hazard"]["id"]
            out.append((body["event"], about))
    return out


def metric(env, name: str, **labels: str) -> float:
    return env.outbox.metrics.registry.get_sample_value(name, labels) or 0.0


def close(env, hazard_id: int) -> None:
    env.act(hazard_id, "cleared", actor="system:camera", note="zone clear again")


def test_repeats_within_the_cooldown_are_held_and_summed_up_once(make_env: MakeEnv, receivers) -> None:
    receiver = receivers(DedupReceiver(verify_signature))
    env = make_env(cooled_site(receiver.url))
    first = env.open_hazard()
    drain(env)
    close(env, first)  # the window: its closing + 30 min
    closed_at = env.hazard(first).closed_at
    second = env.open_hazard()
    third = env.open_hazard()
    close(env, second)  # a later event of a held hazard waits with it
    other_zone = env.open_hazard(zone="kerb-road")  # no hazard closed there: alerts
    drain(env)

    pm = sent(receiver, "pm-lanting")
    assert ("opened", first) in pm and ("cleared", first) in pm
    assert all(hazard not in (second, third) for _, hazard in pm)  # nothing about the repeats yet
    assert ("opened", second) in sent(receiver, "ps-chengguan")  # the police channel's cooldown is 0
    held = env.deliveries(status=HELD)
    assert sorted((d.hazard_id, d.event, d.agency_id) for d in held) == [
        (second, "cleared", "pm-lanting"),
        (second, "opened", "pm-lanting"),
        (third, "opened", "pm-lanting"),
    ]
    assert {d.window_key for d in held} == {f"{first}:pm-lanting:webhook"}
    assert {d.held_until for d in held} == {closed_at + timedelta(minutes=30)}
    assert env.deliveries(hazard_id=other_zone) and not env.deliveries(hazard_id=other_zone, status=HELD)
    assert env.hazard(third).status == "open"  # the property company has not heard yet
    assert metric(env, "clearway_deliveries_held_total", reason="cooldown") == 3

    jobs = env.service.digests
    assert jobs.run_once(closed_at + timedelta(minutes=29)) == []  # the window has not ended
    made = jobs.run_once(closed_at + timedelta(minutes=30, seconds=1))
    assert len(made) == 1
    assert jobs.run_once(closed_at + timedelta(hours=2)) == []
    restarted = DigestJob(env.db, lambda: env.site, env.outbox)  # nothing in memory: derived from the database
    assert restarted.run_once(closed_at + timedelta(hours=3)) == []
    drain(env)

    digests = [r.json() for r in receiver.requests if r.json()["event"] == "digest"]
    assert len(digests) == 1 and receiver.respond.duplicates == 0
    digest = digests[0]
    assert digest["schema"] == "clearway.digest/1" and digest["recipient"]["agency_id"] == "pm-lanting"
    assert digest["idempotency_key"].startswith(f"cw-d{made[0]}-")
    assert [h["id"] for h in digest["hazards"]] == [second, third]
    assert [(h["status"], h["events_held"]) for h in digest["hazards"]] == [
        ("cleared", ["opened", "cleared"]),
        ("open", ["opened"]),
    ]
    assert digest["window"]["after_hazard_id"] == first and digest["window"]["cooldown_s"] == 1800
    assert digest["zone"]["id"] == ZONE and digest["camera"]["id"] == "lanting-gate"
    text = digest["text"]
    assert text["title"].startswith("汇总") and "+08:00" in text["lines"][0]  # the site's language and clock
    assert text["links"][0][1] == f"https://clearway.example.org/hazards/{second}"
    assert env.hazard(third).status == "notified"  # the digest told the property company
    assert metric(env, "clearway_digests_sent_total") == 1
    with env.db.session() as session:
        assert session.scalar(select(func.count()).select_from(DeliveryDigest)) == 1
        in_digest = session.scalars(select(Delivery.digest_id).where(Delivery.status == HELD))
        assert set(in_digest) == {made[0]}  # the held rows stay held, pointing at their digest

    env.act(third, "acknowledged")  # after the digest, the hazard's events go as usual
    late = env.open_hazard()  # held in a window already summed up (the digest job ran ahead): released
    assert [d.window_key for d in env.deliveries(hazard_id=late, status=HELD)] == [f"{first}:pm-lanting:webhook"]
    assert jobs.run_once(closed_at + timedelta(hours=4)) == []
    drain(env)
    # One batch is sent concurrently: two hazards' messages may arrive in either order.
    assert sorted(sent(receiver, "pm-lanting")[-2:]) == [("acknowledged", third), ("opened", late)]
    assert metric(env, "clearway_digests_sent_total") == 1


def test_escalations_and_major_hazards_are_never_held(make_env: MakeEnv, receivers) -> None:
    receiver = receivers(DedupReceiver(verify_signature))
    env = make_env(cooled_site(receiver.url))
    first = env.open_hazard()
    drain(env)
    close(env, first)
    repeat = env.open_hazard()
    major = env.open_hazard(clear_width_m=3.0)  # below the minimum clear width: major, alerts at once
    done = env.service.escalation.run_once(utcnow() + timedelta(minutes=31))
    assert {e.hazard_id for e in done} == {repeat, major}
    drain(env)
    pm = sent(receiver, "pm-lanting")
    assert ("opened", major) in pm and ("escalated", repeat) in pm and ("opened", repeat) not in pm
    assert [d.event for d in env.deliveries(status=HELD)] == ["opened"]


def test_cooldown_comes_from_channel_then_zone_then_site() -> None:
    site = cooled_site("http://127.0.0.1:9", police_cooldown=None)
    pm = site.agency("pm-lanting").channels[0]
    police = cooled_site("http://127.0.0.1:9", police_cooldown="5m").agency("ps-chengguan").channels[0]
    hazard = m.HazardEvent(camera_id="lanting-gate", zone_key=ZONE)
    kerb = m.HazardEvent(camera_id="lanting-gate", zone_key="kerb-road")
    assert cooldown_for(site, hazard, pm) == timedelta(minutes=30)
    assert cooldown_for(site, kerb, pm) == timedelta(minutes=20)
    assert cooldown_for(site, hazard, police) == timedelta(minutes=5)
    stored = site.camera("lanting-gate").zone(ZONE).model_dump(mode="json")  # as the zone editor stores it
    assert Zone.model_validate(stored).cooldown == timedelta(minutes=30)
    assert Site.model_validate(site.model_dump()).cooldown == timedelta(minutes=20)
    with pytest.raises(Exception, match="cooldown"):
        cooled_site("http://127.0.0.1:9", zone_cooldown="-5m")


def test_two_instances_make_each_digest_once(make_env: MakeEnv, receivers) -> None:
    receiver = receivers(DedupReceiver(verify_signature))
    env = make_env(cooled_site(receiver.url, police_cooldown=None))  # both agencies cool down: two windows
    first = env.open_hazard()
    drain(env)
    close(env, first)
    closed_at = env.hazard(first).closed_at
    repeats = [env.open_hazard() for _ in range(3)]
    assert len(env.deliveries(status=HELD)) == 2 * len(repeats)
    second = Database(env.db.url)  # another instance: its own engine, connections and digest job
    other = DeliveryService(second, lambda: env.site, env.settings, env.writer, env.outbox)
    try:
        jobs = [env.service.digests, other.digests]
        barrier = threading.Barrier(2)
        results: list[list[int]] = [[], []]

        def run(i: int) -> None:
            barrier.wait(timeout=10)
            for _ in range(3):
                results[i] += jobs[i].run_once(closed_at + timedelta(minutes=31))

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        other.close()
        second.dispose()
    assert len(results[0] + results[1]) == 2  # one window per agency, each made by one of them
    drain(env)
    digests = [r.json() for r in receiver.requests if r.json()["event"] == "digest"]
    assert sorted(d["recipient"]["agency_id"] for d in digests) == ["pm-lanting", "ps-chengguan"]
    assert all([h["id"] for h in d["hazards"]] == repeats for d in digests)
    with env.db.session() as session:
        assert session.scalar(select(func.count()).where(Delivery.event == "digest")) == 2
        assert session.scalar(select(func.count()).select_from(DeliveryDigest)) == 2


def test_the_digest_reads_on_every_channel(make_sqlite_env: MakeEnv, receivers) -> None:
    receiver = receivers(DedupReceiver(verify_signature))
    env = make_sqlite_env(cooled_site(receiver.url))
    first = env.open_hazard()
    drain(env)
    close(env, first)
    repeat = env.open_hazard()
    (digest_id,) = env.service.digests.run_once(env.hazard(first).closed_at + timedelta(hours=1))
    (row,) = env.deliveries(event="digest")
    message = Message(row.id, row.idempotency_key, 1, row.payload, image=lambda kind: None, camera_state=dict)
    markdown = wecom_payload(message)["markdown"]["content"]
    assert f"/hazards/{repeat})" in markdown and f"ref {row.idempotency_key}" in markdown
    channel = (
        parse_site(
            site_data({"pm-lanting": [{"type": "email", "host": "127.0.0.1", "sender": "a@b.c", "to": ["d@e.f"]}]})
        )
        .agency("pm-lanting")
        .channels[0]
    )
    mail = build_email(channel, message)
    assert mail["X-Clearway-Event"] == "digest" and f"#{repeat}" in mail.get_content()
    assert row.digest_id == digest_id
