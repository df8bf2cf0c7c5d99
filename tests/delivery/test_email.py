"""E-mail against a real local SMTP server (aiosmtpd): facts, the annotated image, refusals, outages."""

from __future__ import annotations

import email
import email.policy
import hashlib
from datetime import timedelta

from service.store.db import utcnow
from tests.delivery.conftest import MakeEnv
from tests.delivery.receivers import SmtpServer
from tests.delivery.support import site_with
from tests.support import free_port


def email_channel(port: int, **extra: object) -> dict:
    return {
        "type": "email",
        "host": "127.0.0.1",
        "port": port,
        "sender": "clearway@county.example",
        "to": ["duty@lanting.example", "manager@lanting.example"],
        "timeout_s": 5,
    } | extra


def test_email_has_the_facts_and_the_annotated_image_attached(make_sqlite_env: MakeEnv) -> None:
    smtp = SmtpServer().start()
    try:
        env = make_sqlite_env(site_with({"pm-lanting": [email_channel(smtp.port)]}))
        hazard_id = env.open_hazard()
        assert env.dispatch().delivered == 1
        assert smtp.wait_for(1)
    finally:
        smtp.stop()
    [envelope] = smtp.messages
    assert envelope.mail_from == "clearway@county.example"
    assert envelope.rcpt_tos == ["duty@lanting.example", "manager@lanting.example"]
    mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
    key = env.deliveries()[0].idempotency_key
    assert mail["Subject"] == f"[Clearway] New hazard: Fire lane blocked at 兰亭苑 Lanting Garden (#{hazard_id})"
    assert mail["Message-ID"] == f"<{key}@clearway>" and mail["X-Clearway-Idempotency-Key"] == key
    text = mail.get_body(("plain",)).get_content()
    assert (
        "北门消防车道 North fire lane (Fire lane)" in text and f"/api/v1/hazards/{hazard_id}/evidence/annotated" in text
    )
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "image/jpeg"
    assert attachment.get_filename() == f"hazard-{hazard_id}-annotated.jpg"
    annotated = next(e for e in env.hazard(hazard_id).evidence if e.kind == "annotated")
    assert hashlib.sha256(attachment.get_content()).hexdigest() == annotated.sha256  # the evidence, unaltered


def test_refused_mailbox_is_dead_and_server_down_is_retried(make_sqlite_env: MakeEnv) -> None:
    smtp = SmtpServer(refuse=("nobody@lanting.example",)).start()
    down_port = free_port()
    try:
        env = make_sqlite_env(
            site_with(
                {
                    "pm-lanting": [
                        email_channel(smtp.port, name="refused", to=["nobody@lanting.example"]),
                        email_channel(down_port, name="down"),
                    ]
                }
            )
        )
        env.open_hazard()
        now = utcnow()
        stats = env.dispatch(now)
        rows = {d.channel: d for d in env.deliveries()}
        assert (stats.dead, stats.retried) == (1, 1)
        assert rows["refused"].status == "dead" and "550" in rows["refused"].last_error
        assert rows["down"].status == "pending" and "refused" in rows["down"].last_error.lower()

        late = SmtpServer(port=down_port).start()  # the mail server comes back
        try:
            assert env.dispatch(now + timedelta(seconds=60)).delivered == 1
            assert late.wait_for(1) and len(late.messages) == 1
        finally:
            late.stop()
    finally:
        smtp.stop()
