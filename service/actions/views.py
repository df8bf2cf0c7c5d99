"""What a hazard looks like to its readers: the pydantic models the API answers with (and documents in its
OpenAPI schema) and the web pages render. Built from the ORM rows with `of()`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from service.store import models as m

IsoTime = Annotated[datetime, PlainSerializer(lambda value: value.isoformat(), return_type=str)]
"""Times as ISO 8601 with their UTC offset, exactly as stored (aware UTC)."""


class HazardSummary(BaseModel):
    id: int
    status: str
    severity: str = Field(description="minor, or major (a fire lane narrower than its minimum clear width)")
    confirmed: bool = Field(description="a reviewer marked it a true positive")
    kind: str = Field(description="its kind in the division of duties, e.g. vehicle_in_fire_lane, camera_offline")
    source: str = Field(description="camera, self_inspection, inspection or resident")
    camera_id: str | None
    compound_id: str
    zone: str
    zone_type: str
    category: str
    class_name: str
    confidence: float
    box: list[float] = Field(description="x1, y1, x2, y2 in pixels of the frame")
    first_seen_at: IsoTime
    opened_at: IsoTime
    last_seen_at: IsoTime
    closed_at: IsoTime | None
    clear_width_m: float | None
    dismiss_reason: str | None
    location: str = Field(description="where, in words (inspections and reports; empty for cameras)")
    description: str
    responsible_agency_id: str | None = Field(description="the unit that answers for it")
    acknowledge_due_at: IsoTime | None
    rectify_due_at: IsoTime | None
    supervised: bool = Field(description="a major hazard listed for supervision by the county (挂牌督办)")
    disputed: bool = Field(
        default=False, description="its answering unit said 'not an obstruction / please review': awaiting the police"
    )

    @classmethod
    def fields_of(cls, h: m.HazardEvent) -> dict:
        return {
            "id": h.id,
            "status": h.status,
            "severity": h.severity,
            "confirmed": h.confirmed,
            "kind": h.kind,
            "source": h.source,
            "camera_id": h.camera_id,
            "compound_id": h.compound_id,
            "zone": h.zone_key,
            "zone_type": h.zone_type,
            "category": h.category,
            "class_name": h.class_name,
            "confidence": round(h.confidence, 4),
            "box": h.box,
            "first_seen_at": h.first_seen_at,
            "opened_at": h.opened_at,
            "last_seen_at": h.last_seen_at,
            "closed_at": h.closed_at,
            "clear_width_m": h.clear_width_m,
            "dismiss_reason": h.dismiss_reason,
            "location": h.location,
            "description": h.description,
            "responsible_agency_id": h.responsible_agency_id,
            "acknowledge_due_at": h.acknowledge_due_at,
            "rectify_due_at": h.rectify_due_at,
            "supervised": h.supervised,
            "disputed": h.disputed,
        }

    @classmethod
    def of(cls, h: m.HazardEvent) -> HazardSummary:
        return cls(**cls.fields_of(h))


class EvidenceItem(BaseModel):
    kind: str = Field(description="original, annotated, thumbnail, after-1, after-2...")
    sha256: str
    size_bytes: int
    media_type: str
    url: str


class RecipientItem(BaseModel):
    agency_id: str
    agency_kind: str
    reason: str


class HistoryItem(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    at: IsoTime
    actor: str
    action: str
    from_status: str | None = Field(alias="from")
    to_status: str | None = Field(alias="to")
    note: str = Field(description="what a person wrote, or the machine's own English for an automatic event")
    params: dict | None = Field(default=None, description="the event's values (codes, ids, times), for translation")
    captured_at: IsoTime | None = Field(default=None, description="capture time of the frame the event is about")


class HazardDetail(HazardSummary):
    first_frame_id: str | None
    latest_frame_id: str | None
    evidence: list[EvidenceItem]
    recipients: list[RecipientItem]
    history: list[HistoryItem]
    device_event: dict | None = Field(
        default=None, description="what the camera itself reported with the latest picture (a hint, never trusted)"
    )

    @classmethod
    def of(cls, h: m.HazardEvent) -> HazardDetail:
        return cls(
            **HazardSummary.fields_of(h),
            first_frame_id=h.first_frame_id,
            latest_frame_id=h.latest_frame_id,
            device_event=h.latest_frame.device_event if h.latest_frame else None,
            evidence=[
                EvidenceItem(
                    kind=e.kind,
                    sha256=e.sha256,
                    size_bytes=e.size_bytes,
                    media_type=e.media_type,
                    url=f"/api/v1/hazards/{h.id}/evidence/{e.kind}",
                )
                for e in h.evidence
            ],
            recipients=[
                RecipientItem(agency_id=r.agency_id, agency_kind=r.agency_kind, reason=r.reason) for r in h.recipients
            ],
            history=[
                HistoryItem(
                    at=e.at,
                    actor=e.actor,
                    action=e.action,
                    from_status=e.from_status,
                    to_status=e.to_status,
                    note=e.note,
                    params=e.params,
                    captured_at=e.captured_at,
                )
                for e in h.history
            ],
        )

    def for_page(self) -> dict:
        """The plain JSON shape (times as ISO strings), as the hazard page's template reads it."""
        return self.model_dump(mode="json", by_alias=True)


class HazardList(BaseModel):
    items: list[HazardSummary]
    next_cursor: int | None = Field(description="pass as `cursor` for the next page; null on the last one")
    counts: dict[str, int] = Field(description="hazards per status for the same filters")
