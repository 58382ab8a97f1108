"""Reading every page of a search for a campaign without logging each page again."""

from yiwang.search.backends import backend, split_doc_id
from yiwang.search.selectors import Filters, required_groups
from yiwang.search.text import parse


def remaining_ids(actor, query: str, filters: Filters, remaining: int) -> list[int]:
    """The ids after the first page, from the same scoped expression the logged search used."""
    if remaining <= 0:
        return []
    engine = backend()
    expr = engine.compile(parse(query), required_groups(actor, filters))
    return [split_doc_id(i)[1] for i in engine.ids(expr, remaining, 200)]
