from datetime import datetime

from ninja import Schema
from pydantic import Field


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    parent_id: int | None
    default_mode: str
    duplicate_radius_m: int


class CaseIn(Schema):
    category_id: int
    title: str = Field(..., min_length=1, max_length=120)
    description: str = Field("", max_length=4000)
    address: str = Field("", max_length=300)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    channel: str = "resident"
    reporter_name: str = Field("", max_length=40)
    reporter_phone: str = Field("", max_length=20)
    anonymous: bool = False
    wants_reply: bool = True
    idempotency_key: str | None = Field(None, max_length=80)


class CaseSummaryOut(Schema):
    id: int
    number: str
    title: str
    category: str
    state: str
    state_label: str
    mode: str
    mode_label: str
    level: str
    grid_code: str
    grid_name: str
    reported_at: datetime
    resolve_due: datetime | None
    is_overdue: bool
    outcome: str
    department: str | None


class EventOut(Schema):
    action: str
    action_label: str
    actor: str
    from_state: str
    to_state: str
    note: str
    data: dict
    created_at: datetime


class AssignmentOut(Schema):
    id: int
    department_id: int
    department: str
    role: str
    status: str
    status_label: str
    checkin_due: datetime | None
    checked_in_at: datetime | None
    done_at: datetime | None
    report: str
    return_reason: str


class CaseDetailOut(CaseSummaryOut):
    channel: str
    description: str
    address: str
    lat: float | None
    lng: float | None
    reporter: str
    reporter_phone: str
    response_due: datetime | None
    responded_at: datetime | None
    replied_at: datetime | None
    closed_at: datetime | None
    reply: str
    outcome_label: str
    outcome_note: str
    transferred_to: str
    satisfaction: str
    reopen_count: int
    duplicate_of: str | None
    leader: str | None
    version: int
    events: list[EventOut]
    assignments: list[AssignmentOut]
    allowed_actions: list[str]
    photos: list[str]


class ActionIn(Schema):
    note: str = Field("", max_length=2000)
    reason: str = Field("", max_length=500)
    reply: str = Field("", max_length=4000)
    outcome: str = ""
    transferred_to: str = Field("", max_length=100)
    lead_id: int | None = None
    assist_ids: list[int] = []
    to_level: str | None = None
    mode: str | None = None
    ok: bool = True
    satisfaction: str = ""
    duplicate_of: str | None = None  # a case number
    expected_version: int | None = None


class NearbyOut(Schema):
    id: int
    number: str
    title: str
    state_label: str
    distance_m: int
    reported_at: datetime


class RatesOut(Schema):
    response_rate: float | None
    on_time_rate: float | None
    completion_rate: float | None
    solved_rate: float | None
    satisfaction_rate: float | None
    average_handling_hours: float | None
    reopen_rate: float | None


class WallPostOut(Schema):
    id: int
    headline: str
    summary: str
    reply_unit: str
    reply: str
    street: str
    category: str
    published_at: datetime | None


class WallReviewIn(Schema):
    approve: bool
    summary: str | None = None
    reply: str | None = None


class RatingIn(Schema):
    direction: str
    score: int
    note: str = Field("", max_length=300)
