"""Answers and undo on the desk and the API: the property company disputes, the police see it flagged and
decide, the Undo button within the window, the history in both languages — over SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.conftest import Harness
from tests.web.support import fresh_client, login, open_hazard, push
from tests.web.test_review import ids_on


def post(client: TestClient, csrf: str, hazard_id: int, action: str, **fields: str):
    return client.post(
        f"/web/hazards/{hazard_id}/{action}",
        data={"csrf_token": csrf, "queue": "status=all", **fields},
        follow_redirects=False,
    )


def page(client: TestClient, hazard_id: int, lang: str = "en", query: str = "") -> str:
    client.get(f"/web/lang/{lang}?next=/web/hazards")
    text = client.get(f"/web/hazards/{hazard_id}?{query}").text
    return html.unescape(text)


def history_of(text: str) -> str:
    return re.search(r'<section class="card history" id="history">(.*?)</section>', text, re.S).group(1)


def test_dispute_review_confirm_and_undo_on_the_page(site: Harness) -> None:
    hazard_id = open_hazard(site)
    pm = fresh_client(site)
    pm_csrf = login(pm, "lanting")
    assert 'id="form-dispute"' in page(pm, hazard_id)
    huayuan = fresh_client(site)
    assert (
        post(huayuan, login(huayuan, "huayuan"), hazard_id, "dispute", reason="not_an_obstruction").status_code == 404
    )
    sent = post(pm, pm_csrf, hazard_id, "dispute", reason="please_review", note="registered van, bay 3")
    assert "done=dispute" in sent.headers["location"]
    mine = page(pm, hazard_id)
    assert "Awaiting police review" in mine and 'id="form-dispute"' not in mine  # once

    police = site.client
    csrf = login(police, "police")
    police.get("/web/lang/en?next=/web/hazards")
    queue = html.unescape(police.get("/web/hazards?attention=disputed").text)
    assert ids_on(queue) == [hazard_id] and "Awaiting police review" in queue
    assert ids_on(police.get("/web/hazards?attention=overdue&status=dismissed").text) == []
    flagged = page(police, hazard_id)
    assert "Awaiting your review" in flagged and "Their answer: Please review: registered van, bay 3" in flagged
    assert 'id="do-undo"' not in flagged  # nothing of theirs to undo yet

    confirmed = post(police, csrf, hazard_id, "confirm")
    assert "done=confirm" in confirmed.headers["location"]
    after = page(police, hazard_id, query=f"done=confirm&done_id={hazard_id}")
    assert 'id="do-undo"' in after
    assert re.search(r'id="undo-left">4 min left to undo<', after)  # the 300 s window, just begun
    assert "Awaiting your review" not in after  # decided
    assert 'id="do-undo"' not in page(pm, hazard_id)  # only whoever confirmed it

    undone = post(police, csrf, hazard_id, "undo")
    assert "done=undo" in undone.headers["location"]
    back = page(police, hazard_id)
    assert "Awaiting your review" in back and 'id="do-undo"' not in back
    english = history_of(back)
    assert "Disputed by the property company" in english
    assert "Please review; awaiting the police's decision: registered van, bay 3" in english
    assert "Undone" in english
    when = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} \+08:00"  # the site's clock, with its offset
    assert re.search(f"“Confirmed” of {when} undone; messages already sent are not recalled", english)
    chinese = history_of(page(police, hazard_id, "zh"))
    assert "物业提出异议" in chinese and "请复核；等待派出所决定" in chinese
    assert "已撤销" in chinese and re.search(f"撤销 {when} 的“已确认”；已发出的消息不会撤回", chinese)


def test_the_next_hazard_offers_undo_of_the_one_just_triaged(site: Harness) -> None:
    first = open_hazard(site)
    cars = ("car", "vehicle", (44, 30, 60, 45))
    push(site, 50, 400, cars)
    push(site, 51, 550, cars)
    second = push(site, 52, 700, cars)["hazards"]
    second_id = next(x["hazard_id"] for x in second if x["change"] == "opened")
    police = site.client
    csrf = login(police, "police")
    police.get("/web/lang/en?next=/web/hazards")
    moved = post(police, csrf, second_id, "dismiss", reason="false_positive")
    location = moved.headers["location"]
    assert f"/web/hazards/{first}?" in location and f"done_id={second_id}" in location  # on to the next
    shown = html.unescape(police.get(location).text)
    assert f'action="/web/hazards/{second_id}/undo"' in shown and "Dismissed by you" in shown
    post(police, csrf, second_id, "undo")
    assert html.unescape(police.get(f"/web/hazards/{second_id}").text).count('class="badge status-open"') == 1


def test_api_undo_answers_409_after_the_window(make_harness: Callable[..., Harness]) -> None:
    h = make_harness(undo_window_s=0)
    hazard_id = open_hazard(h)
    assert h.client.post(f"/api/v1/hazards/{hazard_id}/confirm", headers=h.headers("police")).status_code == 200
    late = h.client.post(f"/api/v1/hazards/{hazard_id}/undo", headers=h.headers("police"))
    assert late.status_code == 409 and late.json()["detail"]["reason"] == "undo_expired"


def test_api_dispute_and_undo_restore_the_hazard(harness: Harness) -> None:
    h = harness
    hazard_id = open_hazard(h)
    disputed = h.client.post(
        f"/api/v1/hazards/{hazard_id}/dispute", headers=h.headers("lanting"), json={"reason": "not_an_obstruction"}
    )
    assert disputed.status_code == 200 and disputed.json()["disputed"] is True
    foreign = h.client.post(
        f"/api/v1/hazards/{hazard_id}/dispute", headers=h.headers("huayuan"), json={"reason": "not_an_obstruction"}
    )
    assert foreign.status_code == 404
    nothing = h.client.post(f"/api/v1/hazards/{hazard_id}/undo", headers=h.headers("police"))
    assert nothing.status_code == 409 and nothing.json()["detail"]["reason"] == "nothing_to_undo"
    dismissed = h.client.post(
        f"/api/v1/hazards/{hazard_id}/dismiss", headers=h.headers("police"), json={"reason": "not_an_obstruction"}
    )
    assert dismissed.json()["status"] == "dismissed" and dismissed.json()["disputed"] is False
    other = h.client.post(f"/api/v1/hazards/{hazard_id}/undo", headers=h.headers("admin"))
    assert other.status_code == 403 and other.json()["detail"]["reason"] == "forbidden"
    again = h.client.post(f"/api/v1/hazards/{hazard_id}/undo", headers=h.headers("police"))
    assert again.status_code == 200
    body = again.json()
    assert (body["status"], body["disputed"], body["dismiss_reason"], body["closed_at"]) == ("open", True, None, None)
    assert body["history"][-1]["action"] == "undone" and body["history"][-1]["params"]["undone"] == "dismissed"
