from ninja import Schema


class StreetOut(Schema):
    id: int
    code: str
    name: str
    color: str


class CommunityOut(Schema):
    id: int
    code: str
    name: str
    street_id: int


class GridOut(Schema):
    id: int
    code: str
    name: str
    community_id: int
    community: str
    street_id: int
    street: str
    center_lat: float | None
    center_lng: float | None
    area_m2: float


class TeamMemberOut(Schema):
    id: int
    role: str
    role_label: str
    name: str
    phone: str
    department: str | None


class GridDetailOut(GridOut):
    boundary: dict | None
    team: list[TeamMemberOut]
    building_count: int
    party_branch: str | None


class TreeGridOut(Schema):
    id: int
    code: str
    name: str


class TreeCommunityOut(Schema):
    id: int
    code: str
    name: str
    grids: list[TreeGridOut]


class TreeStreetOut(Schema):
    id: int
    code: str
    name: str
    color: str
    communities: list[TreeCommunityOut]


class TreeOut(Schema):
    district: str | None
    streets: list[TreeStreetOut]


class BuildingOut(Schema):
    id: int
    address: str
    road: str
    number: str
    compound: str
    building_no: str
    kind: str
    lat: float
    lng: float
    grid_id: int
    floors: int | None
    units: int | None


class DepartmentOut(Schema):
    id: int
    code: str
    name: str
    short_name: str
    kind: str
    street_id: int | None
    is_pilot: bool


class RoleOut(Schema):
    kind: str
    label: str
    node: str
    node_type: str
    node_id: int


class MeOut(Schema):
    username: str
    name: str
    is_superuser: bool
    roles: list[RoleOut]
