"""API keys: creation is validated, only the SHA-256 is stored, and only a good, live key authenticates."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from service.auth.keys import KeyCreationError, Principal, authenticate, create_key
from service.store import models as m
from service.store.db import Database, utcnow


@pytest.mark.parametrize(
    ("role", "agency", "cameras", "message"),
    [
        ("superuser", None, None, "unknown role"),
        ("property", None, None, "needs --agency"),
        ("property", "pm-nowhere", None, "needs --agency"),
        ("property", "ps-chengguan", None, "is a police_station, role 'property' needs a property_company"),
        ("police", "pm-lanting", None, "is a property_company, role 'police' needs a police_station"),
        ("gateway", None, None, "at least one --camera"),
        ("gateway", None, ["lanting-gate", "no-such-camera"], "unknown cameras: ['no-such-camera']"),
    ],
)
def test_keys_that_cannot_be_created_as_asked_are_refused(db: Database, role, agency, cameras, message) -> None:
    with db.session() as session:
        with pytest.raises(KeyCreationError, match=re.escape(message)):
            create_key(session, "k", role, agency, cameras)
        assert session.scalars(select(m.ApiKey)).all() == []


def test_a_good_key_authenticates_as_its_principal(db: Database) -> None:
    with db.session() as session:
        gateway = create_key(session, "gw", "gateway", camera_ids=["lanting-gate", "lanting-b3-stair"])
        company = create_key(session, "lanting office", "property", "pm-lanting")
        county = create_key(session, "county", "county")
    with db.session() as session:
        assert authenticate(session, gateway) == Principal("gw", "gateway", None, ("lanting-gate", "lanting-b3-stair"))
        assert authenticate(session, company) == Principal("lanting office", "property", "pm-lanting", ())
        assert authenticate(session, county) == Principal("county", "county")
        assert authenticate(session, company).actor == "property:lanting office"


def test_only_the_sha256_of_the_key_is_stored(db: Database) -> None:
    with db.session() as session:
        key = create_key(session, "gw", "gateway", camera_ids=["lanting-gate"])
    prefix, secret = key.split("_", 2)[1:]
    with db.session() as session:
        row = session.scalars(select(m.ApiKey)).one()
        assert row.prefix == prefix
        assert row.secret_sha256 == hashlib.sha256(key.encode()).hexdigest()
        stored = [str(getattr(row, column.key)) for column in m.ApiKey.__table__.columns]
    assert not any(secret in value for value in stored)


def test_malformed_unknown_wrong_or_revoked_keys_do_not_authenticate(db: Database) -> None:
    with db.session() as session:
        key = create_key(session, "gw", "gateway", camera_ids=["lanting-gate"])
        revoked = create_key(session, "old", "admin")
    _, prefix, secret = key.split("_", 2)
    with db.session() as session:
        session.scalars(select(m.ApiKey).where(m.ApiKey.name == "old")).one().revoked_at = utcnow()
    with db.session() as session:
        for presented in ("", "nonsense", f"xx_{prefix}_{secret}", f"cw_{prefix}", key.replace("cw_", "cw-", 1)):
            assert authenticate(session, presented) is None, presented
        assert authenticate(session, f"cw_00000000_{secret}") is None  # unknown prefix
        assert authenticate(session, key[:-1] + ("x" if key[-1] != "x" else "y")) is None  # wrong secret
        assert authenticate(session, revoked) is None
        assert authenticate(session, key) is not None
