"""WeCom and DingTalk group robots against local receivers that check what the platforms document:
the endpoint and key, the markdown message format, and DingTalk's signed URL (加签)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import timedelta

from service.store.db import utcnow
from tests.delivery.conftest import MakeEnv
from tests.delivery.receivers import Received
from tests.delivery.support import site_with

WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DING_TOKEN = "c1b2a3d4e5f6"
DING_SECRET = "SEC000000000000000000000000000000000000000000000000000000000000"


class WecomRobot:
    """https://developer.work.weixin.qq.com/document/path/91770 — POST JSON to /cgi-bin/webhook/send?key=KEY."""

    def __init__(self, answer_errcode: int = 0) -> None:
        self.answer_errcode = answer_errcode
        self.accepted: list[dict] = []

    def __call__(self, request: Received) -> tuple:
        if request.path != "/cgi-bin/webhook/send" or request.query.get("key") != [WECOM_KEY]:
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
        if not request.headers.get("content-type", "").startswith("application/json"):
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}
        body = request.json()
        content = body.get("markdown", {}).get("content")
        if set(body) != {"msgtype", "markdown"} or body["msgtype"] != "markdown" or not isinstance(content, str):
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}
        if len(content.encode()) > 4096:
            return 200, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
        if self.answer_errcode:
            return 200, {"errcode": self.answer_errcode, "errmsg": "scripted failure"}
        self.accepted.append(body)
        return 200, {"errcode": 0, "errmsg": "ok"}


class DingtalkRobot:
    """https://open.dingtalk.com/document/robots/customize-robot-security-settings — with 加签 the URL carries
    timestamp (ms, within an hour) and sign = urlencode(base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")))."""

    def __init__(self, secret: str | None) -> None:
        self.secret = secret
        self.accepted: list[tuple[dict, dict]] = []

    def __call__(self, request: Received) -> tuple:
        if request.path != "/robot/send" or request.query.get("access_token") != [DING_TOKEN]:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        if self.secret is not None:
            timestamp, sign = request.query.get("timestamp", [""])[0], request.query.get("sign", [""])[0]
            if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > 3600 * 1000:
                return 200, {"errcode": 310000, "errmsg": "sign not match, timestamp is invalid"}
            digest = hmac.new(self.secret.encode(), f"{timestamp}\n{self.secret}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(sign, base64.b64encode(digest).decode()):
                return 200, {"errcode": 310000, "errmsg": "sign not match"}
        body = request.json()
        markdown = body.get("markdown", {})
        if body.get("msgtype") != "markdown" or not isinstance(markdown.get("title"), str) or not markdown.get("text"):
            return 200, {"errcode": 40035, "errmsg": "missing parameter markdown"}
        self.accepted.append((body, request.query))
        return 200, {"errcode": 0, "errmsg": "ok"}


def test_wecom_gets_a_markdown_message_with_the_key_facts(make_sqlite_env: MakeEnv, receivers) -> None:
    robot = WecomRobot()
    receiver = receivers(robot)
    url = f"{receiver.url}/cgi-bin/webhook/send?key={WECOM_KEY}"
    env = make_sqlite_env(site_with({"pm-lanting": [{"type": "wecom", "url": url}]}))
    hazard_id = env.open_hazard()
    assert env.dispatch().delivered == 1
    [body] = robot.accepted
    content = body["markdown"]["content"]
    key = env.deliveries()[0].idempotency_key
    assert content.startswith(f"### [Clearway] New hazard: Fire lane blocked at 兰亭苑 Lanting Garden (#{hazard_id})")
    for fact in ("**Zone:** 北门消防车道 North fire lane (Fire lane)", "car (vehicle), confidence 0.91", "North gate"):
        assert fact in content
    assert f"/api/v1/hazards/{hazard_id}/evidence/annotated" in content and content.endswith(f"ref {key}")
    assert env.hazard(hazard_id).status == "notified"


def test_a_narrowed_fire_lane_says_its_clear_width(make_sqlite_env: MakeEnv, receivers) -> None:
    robot = WecomRobot()
    receiver = receivers(robot)
    url = f"{receiver.url}/cgi-bin/webhook/send?key={WECOM_KEY}"
    env = make_sqlite_env(site_with({"pm-lanting": [{"type": "wecom", "url": url}]}))
    env.open_hazard(clear_width_m=3.42)
    assert env.dispatch().delivered == 1
    [body] = robot.accepted
    content = body["markdown"]["content"]
    assert "**Clear width:** 3.42 m left for a fire engine" in content and "severity major" in content


def test_wecom_errcodes_decide_between_retry_and_dead(make_sqlite_env: MakeEnv, receivers) -> None:
    busy, broken = receivers(WecomRobot(answer_errcode=45009)), receivers(WecomRobot())
    env = make_sqlite_env(
        site_with(
            {
                "pm-lanting": [
                    {"type": "wecom", "name": "busy", "url": f"{busy.url}/cgi-bin/webhook/send?key={WECOM_KEY}"},
                    {"type": "wecom", "name": "bad-key", "url": f"{broken.url}/cgi-bin/webhook/send?key=wrong"},
                ]
            }
        )
    )
    env.open_hazard()
    now = utcnow()
    stats = env.dispatch(now)
    assert (stats.retried, stats.dead) == (1, 1)
    rows = {d.channel: d for d in env.deliveries()}
    assert rows["bad-key"].status == "dead" and "errcode 93000" in rows["bad-key"].last_error
    assert rows["busy"].status == "pending" and "errcode 45009" in rows["busy"].last_error
    assert rows["busy"].next_attempt_at >= now + timedelta(seconds=30)  # rate limit: wait, capped at backoff max


def test_dingtalk_signed_url_markdown_and_mentions(make_sqlite_env: MakeEnv, receivers) -> None:
    robot = DingtalkRobot(DING_SECRET)
    receiver = receivers(robot)
    channel = {
        "type": "dingtalk",
        "url": f"{receiver.url}/robot/send?access_token={DING_TOKEN}",
        "secret": DING_SECRET,
        "at_mobiles": ["13800000000"],
    }
    env = make_sqlite_env(site_with({"ps-chengguan": [channel]}))
    hazard_id = env.open_hazard()
    assert env.dispatch().delivered == 1
    [(body, query)] = robot.accepted
    assert set(query) == {"access_token", "timestamp", "sign"}
    assert body["markdown"]["title"].startswith("[Clearway] New hazard")
    assert f"(#{hazard_id})" in body["markdown"]["text"] and body["markdown"]["text"].endswith("@13800000000")
    assert body["at"] == {"atMobiles": ["13800000000"], "isAtAll": False}
    assert env.hazard(hazard_id).status == "open"  # the police heard; the property company has not


def test_dingtalk_wrong_secret_is_dead_and_unsigned_robot_gets_no_signature(make_sqlite_env: MakeEnv, receivers):
    signed, unsigned = receivers(DingtalkRobot(DING_SECRET)), receivers(DingtalkRobot(None))
    env = make_sqlite_env(
        site_with(
            {
                "pm-lanting": [
                    {
                        "type": "dingtalk",
                        "name": "wrong-secret",
                        "url": f"{signed.url}/robot/send?access_token={DING_TOKEN}",
                        "secret": "SEC-not-the-robots-secret",
                    },
                    {
                        "type": "dingtalk",
                        "name": "plain",
                        "url": f"{unsigned.url}/robot/send?access_token={DING_TOKEN}",
                    },
                ]
            }
        )
    )
    env.open_hazard()
    stats = env.dispatch()
    assert (stats.delivered, stats.dead) == (1, 1)
    rows = {d.channel: d for d in env.deliveries()}
    assert rows["wrong-secret"].status == "dead" and "errcode 310000" in rows["wrong-secret"].last_error
    [(_, query)] = unsigned.respond.accepted
    assert set(query) == {"access_token"}
