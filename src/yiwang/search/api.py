from ninja import Query, Router, Schema
from pydantic import Field

from .selectors import Filters, search

router = Router(tags=["search"])


class SearchIn(Schema):
    q: str = Field("", max_length=500)
    purpose: str = ""
    reason: str = ""
    kind: str = "resident"
    street_id: int | None = None
    community_id: int | None = None
    grid_id: int | None = None
    tag: list[int] = []
    age_min: int | None = Field(None, ge=0, le=130)
    age_max: int | None = Field(None, ge=0, le=130)
    residence_type: str = ""
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=200)
    facets: bool = False


@router.get("/")
def search_api(request, p: Query[SearchIn]):
    """Count + one page of hits (masked), scoped to the caller, logged with its purpose."""
    result = search(
        actor=request.user,
        query=p.q,
        purpose=p.purpose,
        reason=p.reason,
        filters=Filters(
            kind=p.kind,
            street_id=p.street_id,
            community_id=p.community_id,
            grid_id=p.grid_id,
            tag_ids=p.tag,
            age_min=p.age_min,
            age_max=p.age_max,
            residence_type=p.residence_type,
        ),
        page=p.page,
        page_size=p.page_size,
        facets=p.facets,
    )
    return {
        "query": result.query,
        "total": result.total,
        "page": result.page,
        "page_size": result.page_size,
        "hits": [
            {
                "kind": h.kind,
                "id": h.id,
                "title": str(h.title),
                "snippet": str(h.snippet),
                "grid_id": h.grid_id,
                "record": h.record if isinstance(h.record, dict) else {"name": h.record.name},
            }
            for h in result.hits
        ],
        "facets": result.facets,
    }
