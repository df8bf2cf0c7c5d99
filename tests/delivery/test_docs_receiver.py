"""The copy-paste receiver in docs/delivery.md, run as written against the real dispatcher."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from service.delivery.dispatcher import Dispatcher
from service.delivery.signing import sign_webhook, verify_webhook
from service.store.db import utcnow
from tests.conftest import REPO
from tests.delivery.conftest import MakeEnv
from tests.delivery.support import SECRET, DeliveryEnv, site_with, webhook
from tests.support import free_port


def docs_receiver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    text = (REPO / "docs" / "delivery.md").read_text(encoding="utf-8")
    code = re.search(r"<!-- receiver-example -->\n```python\n(.*?)```", text, re.S)
    assert code, "docs/delivery.md lost its receiver example"
    monkeypatch.setenv("CLEARWAY_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("SEEN_DB", str(tmp_path / "seen.db"))
    namespace: dict = {"__name__": "receiver_example"}
    exec(compile(code.group(1), "docs/delivery.md#receiver", "exec"), namespace)
    return namespace


def test_the_documented_receiver_verifies_and_processes_each_key_once(
    make_sqlite_env: MakeEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = docs_receiver(tmp_path, monkeypatch)
    handled: list[dict] = []
    example["handle"] = handled.append  # the example's `do_POST` looks `handle` up in its own globals
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), example["Receiver"])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = make_sqlite_env(site_with({"pm-lanting": [webhook(f"http://127.0.0.1:{port}/hook")]}), lease_s=5)
        hazard_id = env.open_hazard()

        def crash(outcome) -> None:
            raise SystemExit("crash after send")

        crashing = Dispatcher(env.db, lambda: env.site, env.settings, env.writer, after_send=crash)
        now = utcnow()
        with pytest.raises(SystemExit):
            crashing.run_once(now)
        crashing.close()
        assert env.dispatch(now + timedelta(seconds=6)).delivered == 1  # sent again; answered 204
        assert [(e["event"], e["hazard"]["id"]) for e in handled] == [("opened", hazard_id)]  # handled once
        assert env.deliveries()[0].attempts == 2
    finally:
        server.shutdown()
        server.server_close()


def test_two_databases_never_share_a_key_at_one_receiver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Staging and production (or a restored backup) both send their hazard #1 to one receiver: two messages."""
    example = docs_receiver(tmp_path, monkeypatch)
    handled: list[dict] = []
    example["handle"] = handled.append
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), example["Receiver"])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site = site_with({"pm-lanting": [webhook(f"http://127.0.0.1:{port}/hook")]})
    envs = [DeliveryEnv(f"sqlite:///{tmp_path / name}.db", tmp_path / name, site) for name in ("staging", "production")]
    try:
        ids = [env.open_hazard() for env in envs]
        assert ids == [1, 1]  # the same row ids in both databases
        assert [env.dispatch().delivered for env in envs] == [1, 1]
        assert len(handled) == 2  # neither was dropped as a duplicate of the other
        keys = [env.deliveries()[0].idempotency_key for env in envs]
        assert keys[0] != keys[1] and all(k.startswith("cw-1-") for k in keys)
    finally:
        for env in envs:
            env.close()
        server.shutdown()
        server.server_close()


def test_documented_verify_agrees_with_the_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    verify = docs_receiver(tmp_path, monkeypatch)["verify"]
    body, now = b'{"event":"opened"}', 1_777_600_000
    signature = sign_webhook(SECRET, str(now), body)
    assert verify(SECRET, str(now), body, signature, now=now) and verify_webhook(SECRET, str(now), body, signature, now)
    assert verify(SECRET, str(now), body, f"v1=deadbeef, {signature}", now=now)  # rotation: any one matches
    for args in (
        (SECRET, str(now), body + b" ", signature),  # body altered
        ("another-secret-0123456789", str(now), body, signature),  # wrong secret
        (SECRET, str(now - 301), body, sign_webhook(SECRET, str(now - 301), body)),  # too old: replay
        (SECRET, "not-a-number", body, signature),
    ):
        assert not verify(*args, now=now) and not verify_webhook(*args, now=now)
