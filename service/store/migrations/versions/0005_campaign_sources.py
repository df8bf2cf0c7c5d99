"""every hazard of the campaign: kinds by the division of duties, sources, deadlines, townships (issue 10)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import service.store.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Frozen here (the mapping in service/config/duties.py may change later; what this migration did may not).
CAMERA_KINDS = (
    ("fire_lane", "vehicle", "vehicle_in_fire_lane"),
    ("fire_lane", "two_wheeler", "vehicle_in_fire_lane"),
    ("fire_lane", "clutter", "lane_obstruction"),
    ("stairwell", "vehicle", "stairwell_storage"),
    ("stairwell", "two_wheeler", "ebike_indoor"),
    ("stairwell", "clutter", "stairwell_storage"),
    ("evacuation_route", "vehicle", "blocked_exit"),
    ("evacuation_route", "two_wheeler", "ebike_indoor"),
    ("evacuation_route", "clutter", "blocked_exit"),
    ("safety_exit", "vehicle", "blocked_exit"),
    ("safety_exit", "two_wheeler", "blocked_exit"),
    ("safety_exit", "clutter", "blocked_exit"),
    ("perimeter_road", "vehicle", "perimeter_parking"),
    ("perimeter_road", "two_wheeler", "perimeter_parking"),
    ("perimeter_road", "clutter", "lane_obstruction"),
)


def upgrade() -> None:
    with op.batch_alter_table("compounds", schema=None) as batch_op:
        batch_op.alter_column("property_company_id", existing_type=sa.String(length=64), nullable=True)
        batch_op.add_column(sa.Column("township_id", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_compounds_township_id_agencies"), "agencies", ["township_id"], ["id"]
        )
    with op.batch_alter_table("hazard_events", schema=None) as batch_op:
        batch_op.alter_column("camera_id", existing_type=sa.String(length=64), nullable=True)
        batch_op.add_column(sa.Column("source", sa.String(length=16), nullable=False, server_default="camera"))
        batch_op.add_column(sa.Column("location", sa.String(length=300), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("responsible_agency_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("acknowledge_due_at", service.store.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rectify_due_at", service.store.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("supervised", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f("ix_hazard_events_source"), ["source"], unique=False)
        batch_op.create_index(batch_op.f("ix_hazard_events_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_hazard_events_responsible_agency_id"), ["responsible_agency_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_hazard_events_responsible_agency_id_agencies"), "agencies", ["responsible_agency_id"], ["id"]
        )
    # Camera hazards stored before kinds existed get the kind their zone and category give today.
    hazards = sa.table("hazard_events", sa.column("kind"), sa.column("zone_type"), sa.column("category"))
    for zone_type, category, kind in CAMERA_KINDS:
        old = (hazards.c.kind == "obstruction") & (hazards.c.zone_type == zone_type) & (hazards.c.category == category)
        op.execute(hazards.update().where(old).values(kind=kind))
    op.execute(hazards.update().where(hazards.c.kind == "obstruction").values(kind="lane_obstruction"))


def downgrade() -> None:
    hazards = sa.table("hazard_events", sa.column("kind"))
    op.execute(hazards.update().where(hazards.c.kind != "camera_offline").values(kind="obstruction"))
    with op.batch_alter_table("hazard_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_hazard_events_responsible_agency_id_agencies"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_hazard_events_responsible_agency_id"))
        batch_op.drop_index(batch_op.f("ix_hazard_events_kind"))
        batch_op.drop_index(batch_op.f("ix_hazard_events_source"))
        for column in (
            "supervised",
            "rectify_due_at",
            "acknowledge_due_at",
            "responsible_agency_id",
            "description",
            "location",
            "source",
        ):
            batch_op.drop_column(column)
        batch_op.alter_column("camera_id", existing_type=sa.String(length=64), nullable=False)
    with op.batch_alter_table("compounds", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_compounds_township_id_agencies"), type_="foreignkey")
        batch_op.drop_column("township_id")
        batch_op.alter_column("property_company_id", existing_type=sa.String(length=64), nullable=False)
