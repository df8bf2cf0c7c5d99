"""The report schedule on an injected clock: every unit's report once per week, across restarts and two
instances, what was missed while down made when it comes back, and delivered through the outbox by every
channel (webhook with the figures, e-mail with the PDF and XLSX, WeCom markdown with a link, MQTT retained)."""

from __future__ import annotations

import email
import email.policy
import hashlib
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from service.config.site import Site
from service.reports.periods import find_week
from service.reports.schedule import ReportScheduler
from service.store.campaign_models import CampaignReport
from service.store.db import Database
from service.store.delivery_models import Delivery
from tests.delivery.conftest import MakeEnv
from tests.delivery.receivers import HttpReceiver, SmtpServer
from tests.delivery.support import PUBLIC_URL, DeliveryEnv, site_with, webhook
from tests.delivery.test_email import email_channel
from tests.delivery.test_robots import WECOM_KEY, WecomRobot
from tests.reports.support import TWO_WEEKS, seed

UNITS = 9  # the county and the demo site's eight units (the fire brigade reads the county's)


def week_end(site: Site, label: str):
    return find_week(site.campaign, site.zone, label).ends_at


def scheduler(env: DeliveryEnv, db: Database | None = None) -> ReportScheduler:
    return ReportScheduler(db or env.db, lambda: env.site, env.outbox, PUBLIC_URL)


def reports(env: DeliveryEnv) -> list[tuple[str, str]]:
    with env.db.session() as session:
        rows = session.execute(select(CampaignReport.period, CampaignReport.unit_id).order_by(CampaignReport.id))
        return [tuple(r) for r in rows]


def test_one_report_per_unit_and_week_across_restarts_and_instances(make_env: MakeEnv, receivers) -> None:
    county, lanting = receivers(), receivers()
    reports_only = {"events": ["weekly_report", "final_report"]}  # not the seeded hazards' own messages
    site = site_with(
        {"co-county": [webhook(county.url, **reports_only)], "pm-lanting": [webhook(lanting.url, **reports_only)]}
    )
    env = make_env(site)
    seed(env, env.site, TWO_WEEKS)
    w45, w46 = week_end(site, "2026-W45"), week_end(site, "2026-W46")
    assert scheduler(env).run_once(w45 - timedelta(seconds=1)) == []  # not yet: the week is not over
    made = scheduler(env).run_once(w45)
    assert len(made) == UNITS and {m.period for m in made} == {"2026-W45"}
    assert {m.unit_id: m.deliveries for m in made if m.deliveries} == {"county": 1, "pm-lanting": 1}
    # The service is down over the next Friday; a new process (and a second instance on its own engine) come up.
    later = w46 + timedelta(days=2)
    other = Database(str(env.db.engine.url.render_as_string(hide_password=False)))
    try:
        second = scheduler(env).run_once(later)
        assert {(m.period, m.unit_id) for m in second} == {("2026-W46", u) for _, u in reports(env)[:UNITS]}
        assert scheduler(env, other).run_once(later) == [] and scheduler(env).run_once(later) == []
    finally:
        other.dispose()
    assert len(reports(env)) == 2 * UNITS == len(set(reports(env)))
    assert env.dispatch().delivered == 4
    assert county.wait_for(2) and lanting.wait_for(2)
    bodies = [r.json() for r in county.requests]
    assert [b["report"]["period"] for b in bodies] == ["2026-W45", "2026-W46"]
    first = bodies[0]
    assert first["schema"] == "clearway.campaign-report/1" and first["event"] == "weekly_report"
    assert first["report"]["unit"]["id"] == "county" and first["report"]["figures"]["found"] == 3
    assert first["report"]["links"][0][1] == f"{PUBLIC_URL}/web/reports/{first['report']['id']}"
    keys = [r.headers["idempotency-key"] for r in county.requests + lanting.requests]
    assert len(set(keys)) == 4 and all(k.startswith("cw-r") for k in keys)
    assert lanting.requests[1].json()["report"]["figures"]["found_to_date"] == 3  # its own compounds only


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")  # a failed thread fails it
def test_two_instances_at_the_same_moment_make_each_report_once(make_env: MakeEnv, receivers) -> None:
    county = receivers()
    env = make_env(site_with({"co-county": [webhook(county.url)]}))
    url = env.db.engine.url.render_as_string(hide_password=False)
    engines = [Database(url), Database(url)]
    now = week_end(env.site, "2026-W46")
    try:
        instances = [scheduler(env, db) for db in engines]
        threads = [threading.Thread(target=s.run_once, args=(now,)) for s in instances]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        while any(s.run_once(now) for s in instances):  # one postponed by a busy SQLite writer goes next round
            pass
    finally:
        for db in engines:
            db.dispose()
    assert len(reports(env)) == 2 * UNITS == len(set(reports(env)))
    with env.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 2  # the county's two weeks


def test_email_carries_the_pdf_and_xlsx_and_wecom_a_summary_with_its_link(make_env: MakeEnv) -> None:
    smtp = SmtpServer().start()
    robot = WecomRobot()
    wecom = HttpReceiver(robot).start()
    try:
        site = site_with(
            {
                "co-county": [
                    email_channel(smtp.port, to=["office@county.example"]),
                    {"type": "wecom", "url": f"{wecom.url}/cgi-bin/webhook/send?key={WECOM_KEY}"},
                ],
                "pm-huayuan": [email_channel(smtp.port, events=["opened"])],  # hazards only: no reports
            }
        )
        env = make_env(site)
        seed(env, env.site, TWO_WEEKS)
        now = week_end(site, "2026-W45")
        scheduler(env).run_once(now)
        assert env.dispatch().delivered == 2 + 3  # the county's two channels, and huayuan's three hazards opened
        assert smtp.wait_for(4) and wecom.wait_for(1)
    finally:
        smtp.stop()
        wecom.stop()
    with env.db.session() as session:
        report = session.scalars(select(CampaignReport).where(CampaignReport.unit_id == "county")).one()
        pdf_hash, xlsx_hash, report_id = report.pdf_sha256, report.xlsx_sha256, report.id
    assert {d.event for d in env.deliveries(agency_id="pm-huayuan")} == {"opened"}  # its channel takes no reports
    mails = [email.message_from_bytes(e.content, policy=email.policy.default) for e in smtp.messages]
    [mail] = [m for m in mails if m["X-Clearway-Report"]]
    assert "2026-W45" in mail["Subject"] and mail["X-Clearway-Report"] == str(report_id)
    text = mail.get_body(("plain",)).get_content()
    assert f"/web/reports/{report_id}" in text and "3" in text
    files = {a.get_filename(): a.get_content() for a in mail.iter_attachments()}
    assert set(files) == {"clearway-2026-W45-county.pdf", "clearway-2026-W45-county.xlsx"}
    assert hashlib.sha256(files["clearway-2026-W45-county.pdf"]).hexdigest() == pdf_hash
    assert hashlib.sha256(files["clearway-2026-W45-county.xlsx"]).hexdigest() == xlsx_hash
    [accepted] = robot.accepted
    content = accepted["markdown"]["content"]
    assert "2026-W45" in content and f"({PUBLIC_URL}/web/reports/{report_id})" in content


def test_mqtt_keeps_each_units_latest_report_retained(make_env: MakeEnv, subscribe) -> None:
    prefix = f"cw-test-{uuid.uuid4().hex[:8]}"
    listener = subscribe(prefix)
    mqtt = {"type": "mqtt", "host": "127.0.0.1", "port": 1883, "topic_prefix": prefix, "timeout_s": 5}
    env = make_env(site_with({"co-county": [mqtt]}))
    seed(env, env.site, TWO_WEEKS)
    now = week_end(env.site, "2026-W45")
    scheduler(env).run_once(now)
    assert env.dispatch().delivered == 1
    topic = f"{prefix}/reports/county/weekly_report"
    assert listener.wait_for(lambda messages: any(t == topic for t, _, _ in messages))
    [body] = listener.on("/reports/county/weekly_report")
    assert body["report"]["figures"]["overdue"] == 2
