"""The search page: highlighted hits, facet counts, and a link to start a 摸排 campaign."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render

from yiwang.registry.models import Tag
from yiwang.registry.privacy import PURPOSES

from .selectors import Filters, search


def _int(value):
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


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
        "errors": {},
    }
    if "q" in g:
        try:
            context["result"] = search(
                actor=request.user,
                query=g.get("q", ""),
                purpose=g.get("purpose"),
                reason=g.get("reason", ""),
                filters=Filters(
                    kind=context["kind"]
                    if context["kind"] in ("resident", "place", "organization")
                    else "resident",
                    street_id=context["street_id"],
                    tag_ids=context["selected_tags"],
                    age_min=_int(g.get("age_min")),
                    age_max=_int(g.get("age_max")),
                ),
                page=_int(g.get("page")) or 1,
                facets=True,
                channel="web",
            )
        except ValidationError as exc:
            context["errors"] = exc.message_dict
        except PermissionDenied:
            context["errors"] = {"q": ["您的账号没有可检索的人员范围"]}
    return render(request, "search/search.html", context)
