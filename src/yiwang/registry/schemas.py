from datetime import date

from ninja import Field, Schema


class ResidentOut(Schema):
    id: int
    name: str
    gender: str
    gender_label: str
    birth_date: str | None
    id_number: str
    phones: list[str]
    masked: bool
    address: str
    grid_id: int | None
    building_id: int | None
    house_id: int | None
    household_id: int | None
    relation_to_head: str
    residence_type: str
    residence_type_label: str
    hukou_address: str
    ethnic_group: str
    is_party_member: bool
    tags: list[str]
    workplace: str
    notes: str
    address_status: str
    archived: bool
    sources: list[str]


class ResidentPage(Schema):
    total: int
    offset: int
    items: list[ResidentOut]


class ResidentCard(ResidentOut):
    grid: dict | None
    building: dict | None
    house: dict | None
    household: dict | None
    # Filled by later apps (cases, demands, calls) composing the card in web.
    linked: dict = Field(default_factory=dict)


class ResidentIn(Schema):
    name: str
    gender: str = ""
    birth_date: date | None = None
    id_number: str = ""
    phones: list[str] = Field(default_factory=list)
    address: str = ""
    building_id: int | None = None
    lat: float | None = None
    lng: float | None = None
    # Links to a household and a house the actor sees (the service checks scope and archive).
    household_id: int | None = None
    house_id: int | None = None
    relation_to_head: str = ""
    residence_type: str = "permanent"
    hukou_address: str = ""
    ethnic_group: str = ""
    is_party_member: bool = False
    tags: list[str] = Field(default_factory=list)
    workplace: str = ""
    notes: str = ""


class ResidentPatch(Schema):
    name: str | None = None
    gender: str | None = None
    birth_date: date | None = None
    id_number: str | None = None
    phones: list[str] | None = None
    address: str | None = None
    building_id: int | None = None
    # An explicit null clears the link; leaving the field out keeps it.
    household_id: int | None = None
    house_id: int | None = None
    relation_to_head: str | None = None
    residence_type: str | None = None
    hukou_address: str | None = None
    ethnic_group: str | None = None
    is_party_member: bool | None = None
    tags: list[str] | None = None
    workplace: str | None = None
    notes: str | None = None


class RevealIn(Schema):
    reason: str


class RevealOut(Schema):
    id: int
    id_number: str
    phones: list[str]


class ElementIn(Schema):
    """Households, houses, places and organisations share one input shape; each service takes
    the fields that apply to it and rejects the rest."""

    address: str | None = None
    building_id: int | None = None
    lat: float | None = None
    lng: float | None = None
    kind: str | None = None
    name: str | None = None
    credit_code: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    notes: str | None = None
    unit: str | None = None
    room: str | None = None
    area_m2: float | None = None
    use: str | None = None
    occupancy: str | None = None
    owner_name: str | None = None
    tenant_name: str | None = None
    number: str | None = None
    house_id: int | None = None


class ElementOut(Schema):
    id: int
    type: str
    label: str
    kind: str | None = None
    kind_label: str | None = None
    address: str
    grid_id: int | None
    building_id: int | None
    lat: float | None
    lng: float | None
    address_status: str
    archived: bool
    fields: dict


class ElementPage(Schema):
    total: int
    offset: int
    items: list[ElementOut]


class AccessLogOut(Schema):
    id: int
    actor_name: str
    at: str
    action: str
    purpose: str
    reason: str
    filter: dict
    record_count: int
    object_type: str
    object_id: int | None
    channel: str


class TagOut(Schema):
    code: str
    name: str
