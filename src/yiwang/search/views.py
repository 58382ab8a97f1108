"""The search page: highlighted hits, facet counts that narrow the search when clicked, and a
link to start a 摸排 campaign."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import render

from yiwang.registry.models import Tag
from yiwang.registry.privacy import PURPOSES

from .selectors import Filters, search


def _int(value):
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _url(g: QueryDict, key: str, value=None, *, toggle: bool = False) -> str:
    """The current search with one filter set (or, with toggle, added/removed from a list)
    and the page reset."""
    q = g.copy()
    q.pop("page", None)
    if toggle:
        values = [v for v in q.getlist(key) if v != str(value)]
        if str(value) not in q.getlist(key):
            values.append(str(value))
        q.setlist(key, values)
    elif value is None:
        q.pop(key, None)
    else:
        q[key] = str(value)
    return "?" + q.urlencode()


def _facet_links(g: QueryDict, facets: dict, selected_tags: list[int]) -> None:
    for f in facets.get("street", []):
        f["active"] = _int(g.get("street_id")) == f["id"]
        f["url"] = _url(g, "street_id", None if f["active"] else f["id"])
    for f in facets.get("community", []):
        f["active"] = _int(g.get("community_id")) == f["id"]
        f["url"] = _url(g, "community_id", None if f["active"] else f["id"])
    for f in facets.get("tag", []):
        f["active"] = f["id"] in selected_tags
        f["url"] = _url(g, "tag", f["id"], toggle=True)


@login_required
def search_page(request):
    g = request.GET
    context = {
        "purposes": PURPOSES,
        "tags": Tag.objects.filter(is_active=True).order_by("id"),
        "q": g.get("q", ""),
        "purpose": g.get("purpose", ""),
        "reason": g.get("reason", ""),
        "kind": g.get("kind", "resident"),
        "selected_tags": [t for t in (_int(x) for x in g.getlist("tag")) if t],
        "age_min": g.get("age_min", ""),
        "age_max": g.get("age_max", ""),
        "street_id": _int(g.get("street_id")),
        "community_id": _int(g.get("community_id")),
        "errors": {},
    }
    if "q" in g:
        try:
            result = search(
                actor=request.user,
                query=g.get("q", ""),
                purpose=g.get("purpose"),
                reason=g.get("reason", ""),
                filters=Filters(
                    kind=context["kind"]
                    if context["kind"] in ("resident", "place", "organization")
                    else "resident",
                    street_id=context["street_id"],
                    community_id=context["community_id"],
                    tag_ids=context["selected_tags"],
                    age_min=_int(g.get("age_min")),
                    age_max=_int(g.get("age_max")),
                ),
                page=_int(g.get("page")) or 1,
                facets=True,
                channel="web",
            )
            _facet_links(g, result.facets, context["selected_tags"])
            context["result"] = result
            context["clear_street"] = _url(g, "street_id") if context["street_id"] else ""
            context["clear_community"] = _url(g, "community_id") if context["community_id"] else ""
            context["page_url"] = _url(g, "page")
            context["has_next"] = result.page * result.page_size < result.total
        except ValidationError as exc:
            context["errors"] = exc.message_dict
        except PermissionDenied:
            context["errors"] = {"q": ["您的账号没有可检索的人员范围"]}
    return render(request, "search/search.html", context)
