"""What is urgent, up front: severity, the running deadline, escalation in the queue and on the hazard page;
sorting and filtering by them; history in the reader's language on the site's clock; silent agencies."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from service.delivery.escalation import EscalationScheduler
from service.store import models as m
from service.store.db import utcnow
from service.web.config import WebSettings
from tests.api.conftest import Harness
from tests.web.support import login, open_hazard, push

CARS = [("car", "vehicle", (4 + 12 * n, 30, 12 + 12 * n, 45)) for n in range(3)]


def ids_on(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'class="qitem" href="/web/hazards/\d+\?[^"]*" data-id="(\d+)"', page)]


def three_hazards(h: Harness) -> list[int]:
    """Three open hazards whose deadlines are: 2 h overdue, 25 min left, 3 h left."""
    for i, t in enumerate((0, 150)):
        push(h, 100 + i, t, *CARS)
    ids = sorted(x["hazard_id"] for x in push(h, 102, 300, *CARS)["hazards"])
    now = utcnow()
    with h.client.app.state.runtime.db.session() as session:
        dues = (now - timedelta(hours=2), now + timedelta(minutes=25), now + timedelta(hours=3))
        for hazard_id, due in zip(ids, dues, strict=True):
            hazard = session.get(m.HazardEvent, hazard_id)
            hazard.acknowledge_due_at = due
            hazard.rectify_due_at = due + timedelta(days=1)
        session.get(m.HazardEvent, ids[2]).severity = "major"
    return ids


def escalate(h: Harness, hazard_id: int) -> None:
    runtime = h.client.app.state.runtime
    with runtime.db.session() as session:
        hazard = session.get(m.HazardEvent, hazard_id)
        due = hazard.acknowledge_due_at
    done = EscalationScheduler(runtime.db, runtime.sites.current, runtime.writer).run_once(due + timedelta(seconds=1))
    assert [e.hazard_id for e in done] == [hazard_id]


def test_the_queue_shows_what_is_urgent_and_sorts_and_filters_by_it(site: Harness) -> None:
    overdue, soon, later = three_hazards(site)
    escalate(site, overdue)
    site.client.app.state.web_settings = WebSettings(default_language="en")
    login(site.client, "police")
    page = site.client.get("/web/hazards").text
    row = {i: page.split(f'data-id="{i}"')[1].split("</li>")[0] for i in (overdue, soon, later)}
    assert re.search(r"acknowledgement overdue by 2 h \d+ min", row[overdue])
    assert "escalated, step 1: 城关派出所 Chengguan Police Station" in row[overdue]
    assert re.search(r"acknowledge within 2[45] min", row[soon]) and "escalated" not in row[soon]
    assert "severity-major" in row[later] and re.search(r"acknowledge within 2 h 5\d min|3 h 0 min", row[later])
    assert "open 5 min" not in row[overdue]  # time open, counted from opening to now, not time seen
    assert ids_on(page) == [later, soon, overdue]  # newest first by default
    assert ids_on(site.client.get("/web/hazards?order=due").text) == [overdue, soon, later]
    assert ids_on(site.client.get("/web/hazards?attention=overdue").text) == [overdue]
    assert ids_on(site.client.get("/web/hazards?attention=escalated").text) == [overdue]
    assert ids_on(site.client.get("/web/hazards?severity=major").text) == [later]
    assert ids_on(site.client.get("/web/hazards?attention=nonsense").text) == [later, soon, overdue]


def test_most_urgent_first_pages_forward_and_back(site: Harness) -> None:
    overdue, soon, later = three_hazards(site)
    site.client.app.state.web_settings = WebSettings(default_language="en", page_size=1)
    login(site.client, "police")
    first = site.client.get("/web/hazards?order=due").text
    assert ids_on(first) == [overdue]
    following = re.search(r'href="(\?[^"]*cursor=\d+[^"]*)" rel="next"', first).group(1).replace("&amp;", "&")
    second = site.client.get(f"/web/hazards{following}").text
    assert ids_on(second) == [soon]
    back = re.search(r'href="(\?[^"]*before=\d+[^"]*)" rel="prev"', second).group(1).replace("&amp;", "&")
    assert ids_on(site.client.get(f"/web/hazards{back}").text) == [overdue]
    hazard_page = site.client.get(f"/web/hazards/{soon}?order=due").text
    assert f'data-prev="/web/hazards/{overdue}?' in hazard_page and f'data-next="/web/hazards/{later}?' in hazard_page


def test_history_reads_in_the_readers_language_with_names_and_site_time(site: Harness) -> None:
    overdue, _soon, _later = three_hazards(site)
    escalate(site, overdue)
    login(site.client, "police")  # the demo's default language is Chinese
    zh = site.client.get(f"/web/hazards/{overdue}").text
    history = zh.split('id="history"')[1]
    assert "ps-chengguan" not in history and "police_station" not in history and "UTC" not in history
    assert re.search(r"签收期限 \d{4}-\d\d-\d\d \d\d:\d\d \+08:00 已过：升级至第 1 级：城关派出所", history)
    assert "机动车（car）在北门消防车道 North fire lane停留 5 分钟" in history
    assert "系统 (升级)" in history
    # The opening is about a frame: its time is the frame's capture time (T0 + 300 s, 16:05 in Shanghai).
    assert "2026-05-01 16:05:00 +08:00" in history and "拍摄时间" in history
    site.client.cookies.set("cw_lang", "en")
    en = site.client.get(f"/web/hazards/{overdue}").text.split('id="history"')[1]
    assert re.search(r"acknowledge deadline \d{4}-\d\d-\d\d \d\d:\d\d \+08:00 missed: escalated to step 1", en)
    assert "Vehicle (car) in 北门消防车道 North fire lane for 5 min" in en


def test_people_s_notes_stay_as_written_and_old_rows_show_their_note(site: Harness) -> None:
    hazard_id = open_hazard(site)
    runtime = site.client.app.state.runtime
    with runtime.db.session() as session:
        hazard = session.get(m.HazardEvent, hazard_id)
        runtime.writer.record(session, hazard, "note", "police:ps-chengguan", "车主已联系，10分钟内挪走")
        session.add(m.HazardHistory(hazard_id=hazard_id, actor="system", action="severity", note="minor -> major"))
    login(site.client, "police")
    history = site.client.get(f"/web/hazards/{hazard_id}").text.split('id="history"')[1]
    assert "车主已联系，10分钟内挪走" in history and "派出所 城关派出所" in history
    assert "minor -&gt; major" in history


def test_an_agency_without_a_channel_is_said_to_get_no_messages(site: Harness) -> None:
    hazard_id = open_hazard(site)
    site.client.app.state.web_settings = WebSettings(default_language="en")
    login(site.client, "police")
    page = site.client.get(f"/web/hazards/{hazard_id}").text
    assert 'id="no-channel-pm-lanting"' in page and "No delivery channel configured" in page
    with site.client.app.state.runtime.db.session() as session:
        rows = session.scalars(select(m.HazardRecipient).where(m.HazardRecipient.hazard_id == hazard_id)).all()
    assert {r.agency_id for r in rows} >= {"pm-lanting"}


def test_the_cameras_page_says_which_answering_units_get_no_messages(site: Harness) -> None:
    site.client.app.state.web_settings = WebSettings(default_language="en")
    login(site.client, "county")
    page = site.client.get("/web/cameras").text
    card = page.split('id="compound-lanting"')[1].split("</section>")[0]
    assert 'data-silent="pm-lanting"' in card and 'data-silent="ps-chengguan"' in card
    assert "no delivery channel configured" in card
