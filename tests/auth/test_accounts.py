"""Managing accounts from the command line (`clearway keys list|revoke`, `clearway users list|disable|enable|
unlock|reset-password`), the demo credentials files, and the login limits on one database."""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from service.auth.keys import authenticate, create_key
from service.auth.sessions import resolve_session, start_session
from service.auth.users import check_login, create_user
from service.cli import main
from service.cli.common import database_with_site
from service.config.settings import get_settings
from service.store.auth_models import AuditEntry, User, WebSession
from service.store.db import Database, utcnow

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("service.auth.users._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """The CLI's own database (SQLite under a temporary data dir), migrated, with the demo site."""
    monkeypatch.setenv("CLEARWAY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    database_with_site(get_settings()).dispose()  # as every command does: migrated, the site mirrored in
    database = Database(get_settings().resolved_database_url)
    yield database
    database.dispose()
    get_settings.cache_clear()


def audit_rows(db: Database, action: str) -> list[AuditEntry]:
    with db.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_keys_list_shows_prefixes_never_secrets_and_revoke_refuses_the_key_at_once(cli_db: Database, capsys) -> None:
    with cli_db.session() as session:
        gateway = create_key(session, "gw-north", "gateway", camera_ids=["lanting-gate"])
        create_key(session, "pm office", "property", "pm-lanting")
    prefix = gateway.split("_")[1]
    capsys.readouterr()
    assert main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert gateway.split("_", 2)[2] not in listing  # the secret is never printed
    header, *rows = listing.splitlines()
    assert header.split() == ["prefix", "name", "role", "agency", "cameras", "created", "revoked"]
    north = next(r for r in rows if r.startswith(prefix))
    assert "gw-north" in north and "lanting-gate" in north and "+08:00" in north  # site time with its offset
    assert any("pm-lanting" in r for r in rows)

    assert main(["keys", "revoke", prefix]) == 0
    assert "revoked" in capsys.readouterr().out
    with cli_db.session() as session:
        assert authenticate(session, gateway) is None  # refused on the very next lookup: keys are not cached
    [row] = audit_rows(cli_db, "key.revoke")
    assert (row.actor, row.via, row.object_type, row.object_id) == ("cli", "cli", "api_key", prefix)
    assert main(["keys", "revoke", prefix]) == 2 and "revoked already" in capsys.readouterr().err
    assert main(["keys", "revoke", "deadbeef"]) == 2 and "no key with prefix" in capsys.readouterr().err
    assert main(["keys", "list"]) == 0
    revoked_row = next(r for r in capsys.readouterr().out.splitlines() if r.startswith(prefix))
    assert revoked_row.count("+08:00") == 2  # created and revoked


def test_users_disable_ends_sessions_enable_unlock_and_reset(cli_db: Database, monkeypatch, capsys) -> None:
    with cli_db.session() as session:
        user = create_user(session, "li.wei", PASSWORD, "police", "ps-chengguan", display_name="Li Wei")
        token, _csrf = start_session(session, user)
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    listing = capsys.readouterr().out
    assert "li.wei" in listing and "Li Wei" in listing and "ps-chengguan" in listing

    assert main(["users", "disable", "li.wei"]) == 0
    with cli_db.session() as session:
        assert resolve_session(session, token) is None  # the open session is over
        assert session.scalars(select(WebSession)).all() == []
        assert check_login(session, "li.wei", PASSWORD).outcome == "disabled"
    assert main(["users", "disable", "li.wei"]) == 2 and "disabled already" in capsys.readouterr().err
    assert main(["users", "list"]) == 0
    assert next(r for r in capsys.readouterr().out.splitlines() if r.startswith("li.wei")).count("+08:00") == 1
    assert main(["users", "enable", "li.wei"]) == 0
    with cli_db.session() as session:
        assert check_login(session, "li.wei", PASSWORD).outcome == "ok"

    with cli_db.session() as session:
        outcomes = [check_login(session, "li.wei", "wrong-password").outcome for _ in range(5)]
    assert outcomes == ["wrong"] * 4 + ["locked"]
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    assert next(r for r in capsys.readouterr().out.splitlines() if r.startswith("li.wei")).count("+08:00") == 2
    assert main(["users", "unlock", "li.wei"]) == 0
    with cli_db.session() as session:
        assert check_login(session, "li.wei", PASSWORD).outcome == "ok"
    assert main(["users", "unlock", "li.wei"]) == 2 and "not locked" in capsys.readouterr().err

    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "reset-password", "li.wei", "--password-stdin"]) == 2
    assert "at least 10" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("a-brand-new-password\n"))
    assert main(["users", "reset-password", "li.wei", "--password-stdin"]) == 0
    capsys.readouterr()
    assert main(["users", "reset-password", "li.wei"]) == 0
    generated = capsys.readouterr().out.strip()
    assert len(generated) >= 10
    with cli_db.session() as session:
        assert check_login(session, "li.wei", "a-brand-new-password").outcome == "wrong"
        assert check_login(session, "li.wei", generated).outcome == "ok"
    assert main(["users", "disable", "nobody"]) == 2 and "no user 'nobody'" in capsys.readouterr().err

    actions = {a.action: a for a in audit_rows(cli_db, "user.disable") + audit_rows(cli_db, "user.reset_password")}
    assert actions["user.disable"].actor == "cli" and actions["user.disable"].via == "cli"
    assert "1 session(s) ended" in actions["user.disable"].detail
    resets = audit_rows(cli_db, "user.reset_password")
    assert [r.detail.split(";")[0] for r in resets] == ["given", "generated"]
    assert len(audit_rows(cli_db, "user.enable")) == len(audit_rows(cli_db, "user.unlock")) == 1


def test_demo_files_are_sourceable_by_a_shell_and_include_a_county_key(cli_db: Database, capsys) -> None:
    assert main(["keys", "demo"]) == 0 and main(["users", "demo"]) == 0
    data = get_settings().data_dir
    for name in ("demo-keys.env", "demo-users.env"):
        assert (data / name).stat().st_mode & 0o777 == 0o600
    script = "set -eu; set -a; . ./demo-keys.env; . ./demo-users.env; set +a; env"
    shell = subprocess.run(["sh", "-c", script], cwd=data, capture_output=True, text=True, env={}, check=True)
    env = dict(line.split("=", 1) for line in shell.stdout.splitlines() if "=" in line)
    with cli_db.session() as session:
        county = authenticate(session, env["COUNTY_KEY"])
        assert county is not None and county.role == "county"
        assert authenticate(session, env["PS_CHENGGUAN_KEY"]).role == "police"
        assert env["PM_LANTING_USER"] == "pm-lanting" and env["ADMIN_USER"] == "admin"
        assert check_login(session, env["PM_LANTING_USER"], env["PM_LANTING_PASSWORD"]).outcome == "ok"
        assert check_login(session, env["COUNTY_USER"], env["COUNTY_PASSWORD"]).outcome == "ok"
    assert not os.environ.get("COUNTY_KEY")  # the shell above had its own environment


def test_unknown_names_lock_like_known_ones(db: Database) -> None:
    with db.session() as session:
        create_user(session, "police", PASSWORD, "police", "ps-chengguan")
    for name in ("police", "nobody"):
        with db.session() as session:
            results = [check_login(session, name, "wrong-password", "10.0.0.1") for _ in range(6)]
        assert [r.outcome for r in results] == ["wrong"] * 4 + ["locked", "locked"], name
        assert all(r.user is None for r in results)  # nothing in the answer tells the two apart
        assert results[4].locked_until == results[5].locked_until
    with db.session() as session:
        assert check_login(session, "Police", PASSWORD).outcome == "locked"  # case does not give a fresh counter
        assert check_login(session, "police", PASSWORD).outcome == "locked"  # the right password waits too


def test_unknown_and_known_names_take_the_same_time(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("service.auth.users._hasher", PasswordHasher())  # the real cost, as in production
    with db.session() as session:
        create_user(session, "police", PASSWORD, "police", "ps-chengguan")

    def timed(name: str) -> float:
        with db.session() as session:
            start = time.perf_counter()
            assert check_login(session, name, "wrong-password").outcome == "wrong"
            return time.perf_counter() - start

    known, unknown = [], []
    for _ in range(4):  # alternating, and under the lock's 5 failures
        known.append(timed("police"))
        unknown.append(timed("nobody"))
    ratio = statistics.median(known) / statistics.median(unknown)
    assert 0.5 < ratio < 2, (known, unknown)


def test_one_address_is_throttled_with_back_off_across_processes(db: Database) -> None:
    from service.auth import login_limits as limits

    other = Database(db.url)  # another process's engine on the same database
    now = utcnow()
    try:
        for i in range(limits.ADDR_FAILURES):
            with (db if i % 2 else other).session() as session:
                assert check_login(session, f"ghost{i % 10}", "x" * 12, "10.0.0.7", now=now).outcome != "throttled"
        with other.session() as session:
            first = check_login(session, "someone", "x" * 12, "10.0.0.7", now=now)
            assert first.outcome == "throttled" and first.locked_until == now + limits.ADDR_LOCK
            assert check_login(session, "someone", "x" * 12, "10.0.0.8", now=now).outcome == "wrong"  # others go on
        later = now + limits.ADDR_LOCK + timedelta(seconds=1)
        for i in range(limits.ADDR_FAILURES):
            with db.session() as session:
                check_login(session, f"spray{i}", "x" * 12, "10.0.0.7", now=later)
        with db.session() as session:
            second = check_login(session, "someone", "x" * 12, "10.0.0.7", now=later)
        assert second.outcome == "throttled" and second.locked_until == later + 2 * limits.ADDR_LOCK  # doubled
    finally:
        other.dispose()


def test_idle_rows_are_removed(db: Database) -> None:
    from service.auth import login_limits as limits
    from service.store.auth_models import LoginLimit

    long_ago = utcnow() - limits.FORGET_AFTER - timedelta(hours=1)
    with db.session() as session:
        for i in range(30):
            check_login(session, f"old{i}", "x" * 12, f"10.1.0.{i}", now=long_ago)
        assert len(session.scalars(select(LoginLimit)).all()) == 60
    with db.session() as session:
        check_login(session, "fresh", "x" * 12, "10.2.0.1")
        left = session.scalars(select(LoginLimit)).all()
    assert sorted(r.scope for r in left) == ["addr", "name"]  # only the fresh pair stays
    with db.session() as session:
        assert session.scalars(select(User)).all() == []
