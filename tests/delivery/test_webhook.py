"""Webhooks against a real local HTTP receiver: signing, retries, dead letters, crash recovery — on SQLite
and PostgreSQL. The receiver verifies signatures with the recipe in docs/delivery.md and dedups by key."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from service.delivery.dispatcher import Dispatcher
from service.store import models as m
from service.store.db import utcnow
from service.store.delivery_models import Delivery
from tests.delivery.conftest import MakeEnv
from tests.delivery.receivers import DedupReceiver, Scripted
from tests.delivery.support import PUBLIC_URL, site_with, verify_signature, webhook
from tests.support import free_port

LATER = timedelta(seconds=60)  # past any backoff of these tests (base 1 s, cap 30 s)


def lanting_site(url: str, **extra: object):
    return site_with({"pm-lanting": [webhook(f"{url}/pm-lanting", **extra)]})


def test_opened_hazard_is_posted_signed_with_thumbnail_and_becomes_notified(make_env: MakeEnv, receivers) -> None:
    dedup = DedupReceiver(verify_signature)
    receiver = receivers(dedup)
    env = make_env(lanting_site(receiver.url, include_thumbnail=True))
    hazard_id = env.open_hazard()
    [row] = env.deliveries()
    assert (row.status, row.event, row.agency_id, row.channel) == ("pending", "opened", "pm-lanting", "webhook")

    stats = env.dispatch()
    assert (stats.claimed, stats.delivered) == (1, 1)
    [request] = receiver.requests
    assert request.path == "/pm-lanting" and verify_signature(request)
    assert request.headers["idempotency-key"] == row.idempotency_key
    assert request.headers["x-clearway-event"] == "opened" and request.headers["x-clearway-attempt"] == "1"
    body = request.json()
    assert body["event"] == "opened" and body["idempotency_key"] == row.idempotency_key
    assert body["hazard"]["id"] == hazard_id and body["hazard"]["zone"]["type"] == "fire_lane"
    assert body["hazard"]["url"] == f"{PUBLIC_URL}/api/v1/hazards/{hazard_id}"
    assert body["hazard"]["compound"]["name"].endswith("Lanting Garden")
    assert body["recipient"] == {
        "agency_id": "pm-lanting",
        "agency_kind": "property_company",
        "channel": "webhook",
        "reason": "duty: rectifies",
    }
    evidence = {e["kind"]: e for e in body["evidence"]}
    assert evidence["annotated"]["url"] == f"{PUBLIC_URL}/api/v1/hazards/{hazard_id}/evidence/annotated"
    thumbnail = base64.b64decode(body["thumbnail"]["base64"])
    assert hashlib.sha256(thumbnail).hexdigest() == body["thumbnail"]["sha256"] == evidence["thumbnail"]["sha256"]

    [row] = env.deliveries()
    assert (row.status, row.attempts, row.last_error) == ("delivered", 1, None)
    hazard = env.hazard(hazard_id)
    assert hazard.status == "notified"
    assert (hazard.history[-1].action, hazard.history[-1].actor) == ("notified", "system:delivery")
    assert env.deliveries()[-1].event == "opened"  # "notified" itself is not delivered
    assert list(dedup.processed) == [row.idempotency_key] and dedup.bad_signatures == 0


def test_notified_once_the_property_company_hears_not_before(make_env: MakeEnv, receivers) -> None:
    police, company = receivers(), receivers(Scripted([503]))
    env = make_env(site_with({"pm-lanting": [webhook(company.url)], "ps-chengguan": [webhook(police.url)]}))
    first, second = env.open_hazard(), env.open_hazard()
    now = utcnow()
    stats = env.dispatch(now)
    assert (stats.delivered, stats.retried) == (3, 1)  # the company's first answer is a 503
    statuses = {env.hazard(first).status, env.hazard(second).status}
    assert statuses == {"open", "notified"}  # the police hearing of it does not count; the company's 2xx does
    assert env.dispatch(now + LATER).delivered == 1
    assert env.hazard(first).status == env.hazard(second).status == "notified"
    assert [h.action for h in env.hazard(first).history] == ["opened", "notified"]


def test_rows_are_committed_with_the_change_or_not_at_all(make_env: MakeEnv, receivers) -> None:
    env = make_env(lanting_site(receivers().url))
    wake = env.service.outbox.wake
    hazard_id = env.open_hazard()
    assert wake.is_set()  # the commit wakes the dispatcher thread at once
    wake.clear()
    with pytest.raises(RuntimeError), env.db.session() as session:
        hazard = session.get(m.HazardEvent, hazard_id)
        env.writer.record(session, hazard, "confirmed", "police:ps", "seen it")
        assert session.scalars(select(Delivery).where(Delivery.event == "confirmed")).first() is not None
        raise RuntimeError("the change fails after its outbox rows were added")
    assert [d.event for d in env.deliveries()] == ["opened"]  # rolled back together
    assert [h.action for h in env.hazard(hazard_id).history] == ["opened"]
    with env.db.session() as session:
        env.writer.record(session, session.get(m.HazardEvent, hazard_id), "evidence_viewed", "police:ps", "annotated")
    assert [d.event for d in env.deliveries()] == ["opened"]  # audit entries are never delivered
    assert not wake.is_set()  # neither the rollback nor the audit entry woke it


def test_receiver_down_at_first_gets_it_later_exactly_once(make_env: MakeEnv, receivers) -> None:
    port = free_port()  # nothing listens yet
    env = make_env(lanting_site(f"http://127.0.0.1:{port}"))
    env.open_hazard()
    now = utcnow()
    assert env.dispatch(now).retried == 1
    [row] = env.deliveries()
    assert row.status == "pending" and row.attempts == 1 and "ConnectError" in row.last_error
    assert now + timedelta(seconds=0.5) <= row.next_attempt_at <= now + timedelta(seconds=1)
    assert env.dispatch(now).claimed == 0  # not due yet

    dedup = DedupReceiver(verify_signature)
    receiver = receivers(dedup, port=port)
    assert env.dispatch(now + LATER).delivered == 1
    assert env.dispatch(now + 2 * LATER).claimed == 0
    assert len(receiver.requests) == 1 and len(dedup.processed) == 1
    [row] = env.deliveries()
    assert (row.status, row.attempts, row.last_error) == ("delivered", 2, None)


def test_500_for_a_while_backs_off_exponentially_then_delivers(make_env: MakeEnv, receivers) -> None:
    dedup = DedupReceiver(verify_signature, Scripted([500, 502, 503]))
    receiver = receivers(dedup)
    env = make_env(lanting_site(receiver.url))
    env.open_hazard()
    now = utcnow()
    delays = []
    for _ in range(3):
        assert env.dispatch(now).retried == 1
        [row] = env.deliveries()
        delays.append((row.next_attempt_at - now).total_seconds())
        now = row.next_attempt_at
    assert 0.5 <= delays[0] <= 1 and 1 <= delays[1] <= 2 and 2 <= delays[2] <= 4  # base 1 s, equal jitter
    assert "HTTP 503" in row.last_error
    assert env.dispatch(now).delivered == 1
    assert [r.headers["x-clearway-attempt"] for r in receiver.requests] == ["1", "2", "3", "4"]
    assert len({r.headers["idempotency-key"] for r in receiver.requests}) == 1
    assert len(dedup.processed) == 1 and env.deliveries()[0].status == "delivered"


@pytest.mark.parametrize("status", [400, 410])
def test_4xx_is_dead_at_once_and_never_retried(make_env: MakeEnv, receivers, status: int) -> None:
    receiver = receivers(Scripted(then=status))
    env = make_env(lanting_site(receiver.url))
    hazard_id = env.open_hazard()
    now = utcnow()
    assert env.dispatch(now).dead == 1
    [row] = env.deliveries()
    assert row.status == "dead" and row.attempts == 1 and f"HTTP {status}" in row.last_error
    assert env.dispatch(now + timedelta(days=2)).claimed == 0
    assert len(receiver.requests) == 1
    assert env.hazard(hazard_id).status == "open"  # nobody heard: still open, so escalation will act


def test_408_and_429_are_retried_and_retry_after_is_honoured(make_env: MakeEnv, receivers) -> None:
    answers = iter([(408, {}), (429, {}, {"Retry-After": "20"})])
    receiver = receivers(lambda request: next(answers, (200, {})))
    env = make_env(lanting_site(receiver.url))
    env.open_hazard()
    now = utcnow()
    assert env.dispatch(now).retried == 1
    now = env.deliveries()[0].next_attempt_at
    assert env.dispatch(now).retried == 1
    [row] = env.deliveries()
    assert row.status == "pending" and "HTTP 429" in row.last_error
    assert now + timedelta(seconds=20) <= row.next_attempt_at <= now + timedelta(seconds=30)  # not the 1-2 s step
    assert env.dispatch(row.next_attempt_at).delivered == 1
    assert len(receiver.requests) == 3


def test_max_age_turns_a_failing_delivery_dead_with_the_last_error(make_env: MakeEnv, receivers) -> None:
    receiver = receivers(Scripted(then=503))
    env = make_env(lanting_site(receiver.url), max_age_s=5)
    env.open_hazard()
    now = utcnow()
    for _ in range(10):
        stats = env.dispatch(now)
        if stats.dead:
            break
        now += timedelta(seconds=2)
    [row] = env.deliveries()
    assert row.status == "dead" and row.attempts >= 2
    assert row.last_error.startswith(f"gave up after {row.attempts} attempts") and "HTTP 503" in row.last_error
    assert len(receiver.requests) == row.attempts


def test_crash_between_send_and_mark_is_redelivered_and_deduplicated(make_env: MakeEnv, receivers) -> None:
    dedup = DedupReceiver(verify_signature)
    receiver = receivers(dedup)
    env = make_env(lanting_site(receiver.url), lease_s=30)
    env.open_hazard()

    def crash(outcome) -> None:
        raise SystemExit("power cut after the send, before the outcome is recorded")

    crashing = Dispatcher(env.db, lambda: env.site, env.settings, env.writer, after_send=crash)
    now = utcnow()
    with pytest.raises(SystemExit):
        crashing.run_once(now)
    crashing.close()
    assert len(receiver.requests) == 1
    [row] = env.deliveries()
    assert row.status == "pending" and row.attempts == 1  # claimed, never marked

    fresh = Dispatcher(env.db, lambda: env.site, env.settings, env.writer)  # "after the restart"
    try:
        assert fresh.run_once(now + timedelta(seconds=10)).claimed == 0  # lease still held
        assert fresh.run_once(now + timedelta(seconds=31)).delivered == 1
    finally:
        fresh.close()
    assert len(receiver.requests) == 2  # at least once...
    assert len({r.headers["idempotency-key"] for r in receiver.requests}) == 1
    assert len(dedup.processed) == 1 and dedup.duplicates == 1  # ...processed exactly once
    assert env.deliveries()[0].status == "delivered"


def test_each_recipient_hears_only_of_its_compounds_and_its_events(make_env: MakeEnv, receivers) -> None:
    receiver = receivers(DedupReceiver(verify_signature))
    url = receiver.url
    site = site_with(
        {
            "pm-lanting": [webhook(f"{url}/pm-lanting")],
            "pm-huayuan": [webhook(f"{url}/pm-huayuan")],
            "ps-chengguan": [
                webhook(f"{url}/ps-all"),
                webhook(f"{url}/ps-huayuan", name="huayuan-only", compounds=["huayuan"]),
                webhook(f"{url}/ps-closing", name="closing", events=["rectified", "dismissed", "cleared"]),
            ],
            "fb-county": [webhook(f"{url}/fire")],  # not routed for fire lanes by default
        }
    )
    env = make_env(site)
    lanting = env.open_hazard()
    env.dispatch()
    env.act(lanting, "acknowledged")
    env.act(lanting, "rectified")
    huayuan = env.open_hazard(camera="huayuan-lane", zone="fire-lane-central")
    env.act(huayuan, "dismissed", actor="police:ps", note="false_positive")
    while env.dispatch().claimed:
        pass
    seen: dict[str, list[tuple[int, str]]] = {}
    for request in receiver.requests:
        body = request.json()
        seen.setdefault(request.path, []).append((body["hazard"]["id"], body["event"]))
    assert seen["/pm-lanting"] == [(lanting, "opened"), (lanting, "acknowledged"), (lanting, "rectified")]
    assert seen["/pm-huayuan"] == [(huayuan, "opened"), (huayuan, "dismissed")]
    assert sorted(seen["/ps-all"]) == sorted(
        [
            (lanting, "opened"),
            (lanting, "acknowledged"),
            (lanting, "rectified"),
            (huayuan, "opened"),
            (huayuan, "dismissed"),
        ]
    )
    assert seen["/ps-huayuan"] == [(huayuan, "opened"), (huayuan, "dismissed")]
    assert sorted(seen["/ps-closing"]) == sorted([(lanting, "rectified"), (huayuan, "dismissed")])
    assert "/fire" not in seen
    assert all(verify_signature(r) for r in receiver.requests)


def test_a_channel_removed_from_the_site_file_is_dead_not_stuck(make_env: MakeEnv, receivers) -> None:
    env = make_env(lanting_site(receivers().url))
    env.open_hazard()
    env.site = site_with({})
    assert env.dispatch().dead == 1
    assert "not configured" in env.deliveries()[0].last_error
