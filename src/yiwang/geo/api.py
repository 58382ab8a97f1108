"""Point → grid and address → grid."""

from ninja import Query, Router, Schema
from pydantic import Field

from .index import locate
from .resolve import resolve_address

router = Router(tags=["geo"])


class LocateIn(Schema):
    lat: float = Field(..., ge=-90, le=90, description="纬度 (WGS84)")
    lng: float = Field(..., ge=-180, le=180, description="经度 (WGS84)")


class LocateOut(Schema):
    inside: bool
    grid_id: int | None
    grid_code: str | None
    grid_name: str | None
    distance_m: float | None
    message: str


@router.get("/locate", response=LocateOut)
def locate_point(request, q: Query[LocateIn]):
    """The grid a point lies in; for a point outside the district, the nearest grid and how far."""
    found = locate(q.lat, q.lng)
    if found.inside:
        message = f"位于{found.grid_name}"
    elif found.grid_id is None:
        message = "尚未导入任何网格"
    else:
        message = (
            f"该点不在本区任何网格内,最近的网格是{found.grid_name},相距约 {found.distance_m:.0f} 米"
        )
    return {
        "inside": found.inside,
        "grid_id": found.grid_id,
        "grid_code": found.grid_code,
        "grid_name": found.grid_name,
        "distance_m": found.distance_m,
        "message": message,
    }


class ResolveIn(Schema):
    address: str = Field(..., min_length=1, max_length=300, description="地址文本")


class CandidateOut(Schema):
    grid_id: int
    grid_code: str
    grid_name: str
    share: float


class ResolveOut(Schema):
    query: str
    resolved: bool
    level: str
    confidence: float
    message: str
    parsed: dict
    grid_id: int | None
    grid_code: str | None
    grid_name: str | None
    building_id: int | None
    building_address: str | None
    lat: float | None
    lng: float | None
    candidates: list[CandidateOut]


@router.get("/resolve", response=ResolveOut)
def resolve(request, q: Query[ResolveIn]):
    """A free-text address → its building and grid, with a confidence; or the best partial match
    (the road only → candidate grids), never a silent guess."""
    return resolve_address(q.address).as_dict()
