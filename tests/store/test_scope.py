"""Scope: a company sees its compounds, police its jurisdiction, county and admin everything, gateways nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from service.auth.keys import Principal
from service.auth.users import UserPrincipal
from service.store import models as m
from service.store.db import Database
from service.store.scope import can_see_compound, scope_hazards, visible_compound_ids

T = datetime(2026, 5, 1, tzinfo=UTC)
WHO = {
    "lanting company": Principal("a", "property", "pm-lanting"),
    "lanting person": UserPrincipal("p", "property", "pm-lanting", user_id=1),  # logged in: the same rules
    "huayuan company": Principal("b", "property", "pm-huayuan"),
    "chengguan police": Principal("c", "police", "ps-chengguan"),
    "riverside police": Principal("d", "police", "ps-riverside"),
    "county": Principal("e", "county"),
    "admin": Principal("f", "admin"),
    "gateway": Principal("g", "gateway", camera_ids=("lanting-gate",)),
    "unknown role": Principal("h", "visitor"),
}
SEES = {
    "lanting company": ["lanting", "riverside"],
    "lanting person": ["lanting", "riverside"],
    "huayuan company": ["huayuan"],
    "chengguan police": ["huayuan", "lanting"],
    "riverside police": ["riverside"],
    "county": None,
    "admin": None,
    "gateway": [],
    "unknown role": [],
}


@pytest.fixture
def site(db: Database) -> Database:
    """The demo site plus a third compound, managed by Lanting's company, in another police station's area."""
    with db.session() as session:
        session.add(m.Agency(id="ps-riverside", name="Riverside Police Station", kind="police_station"))
        session.flush()
        session.add(
            m.Compound(
                id="riverside", name="Riverside", property_company_id="pm-lanting", police_station_id="ps-riverside"
            )
        )
        session.flush()
        session.add(m.Camera(id="riverside-lane", compound_id="riverside"))
        session.flush()
        for camera, compound in (
            ("lanting-gate", "lanting"),
            ("huayuan-lane", "huayuan"),
            ("riverside-lane", "riverside"),
        ):
            session.add(
                m.HazardEvent(
                    engine_key=f"{camera}:lane:1",
                    kind="vehicle_in_fire_lane",
                    camera_id=camera,
                    compound_id=compound,
                    zone_key="lane",
                    zone_type="fire_lane",
                    category="vehicle",
                    class_name="car",
                    confidence=0.9,
                    box=[0, 0, 1, 1],
                    first_seen_at=T,
                    opened_at=T,
                    last_seen_at=T,
                )
            )
    return db


@pytest.mark.parametrize("who", list(WHO))
def test_each_principal_sees_exactly_its_compounds_and_their_hazards(site: Database, who: str) -> None:
    principal, expected = WHO[who], SEES[who]
    with site.session() as session:
        ids = visible_compound_ids(session, principal)
        assert (sorted(ids) if ids is not None else None) == (sorted(expected) if expected is not None else None)
        hazards = session.scalars(scope_hazards(select(m.HazardEvent.compound_id), session, principal)).all()
        everything = ["huayuan", "lanting", "riverside"]
        assert sorted(hazards) == (everything if expected is None else sorted(expected))
        for compound in everything:
            assert can_see_compound(session, principal, compound) == (expected is None or compound in expected)
