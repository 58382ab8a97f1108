"""Search: results equal a brute-force substring filter (property test, on whichever database
the suite runs — CI runs it on SQLite and on PostgreSQL), scope isolation, logging, bad input."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import login
from yiwang.registry.models import AccessLog, Resident, Tag
from yiwang.search import index
from yiwang.search.backends import backend
from yiwang.search.selectors import Filters, search
from yiwang.search.text import GRAM_MAX, matches, parse, pinyin_forms, runs

# A small alphabet so that generated terms hit often: CJK, Latin, digits.
ALPHABET = "武汉独居高龄张三李四王伊春路号楼abcxyz0123"
text = st.text(alphabet=ALPHABET + " ,-", min_size=0, max_size=14)


def haystack(r: Resident) -> list[str]:
    parts = [r.name, *pinyin_forms(r.name), r.address, r.workplace, r.notes, r.hukou_address]
    parts += [t.name for t in r.tags.all()]
    return [x for p in parts for x in runs(p)]


def all_ids(actor, query, **kw):
    ids, page = [], 1
    while True:
        result = search(actor=actor, query=query, purpose="routine", page=page, page_size=200, **kw)
        ids += [h.id for h in result.hits]
        if len(ids) >= result.total or not result.hits:
            return result.total, sorted(ids)
        page += 1


@pytest.fixture
def people(tree):
    def make(rows, grid=None):
        Resident.objects.all().delete()
        made = [
            Resident.objects.create(
                name=n or "无名", address=a, notes=no, grid=grid or tree.grid_a1
            )
            for n, a, no in rows
        ]
        index.flush(limit=100_000)
        return made

    return make


query_term = st.text(alphabet=ALPHABET, min_size=2, max_size=4)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(st.tuples(text, text, text), min_size=1, max_size=25),
    terms=st.lists(query_term, min_size=1, max_size=3),
    op=st.sampled_from(["and", "or", "not"]),
)
def test_results_equal_brute_force_substring_filter(people, leader, rows, terms, op):
    made = people(rows)
    if op == "and" or len(terms) == 1:
        query = " ".join(terms)
    elif op == "or":
        query = " OR ".join(terms)
    else:
        query = terms[0] + " " + " ".join("-" + t for t in terms[1:])
    node = parse(query)
    expected = sorted(r.id for r in made if matches(node, haystack(r)))
    total, ids = all_ids(leader, query)
    assert total == len(expected)
    assert ids == expected


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(st.tuples(text, text, text), min_size=1, max_size=25), data=st.data())
def test_longer_terms_counted_or_not_equal_brute_force(people, leader, rows, data):
    """Terms of 5 to GRAM_MAX + 1 characters taken from the data itself (so they hit): up to
    GRAM_MAX a district-wide count is read from search_gram, beyond it the engine counts."""
    made = people(rows)
    sources = [r for row in rows for r in runs(" ".join(row)) if len(r) >= 5] or ["武汉独居高龄"]
    source = data.draw(st.sampled_from(sources))
    size = data.draw(st.integers(5, min(GRAM_MAX + 1, len(source))))
    start = data.draw(st.integers(0, len(source) - size))
    term = source[start : start + size]
    expected = sorted(r.id for r in made if matches(parse(term), haystack(r)))
    total, ids = all_ids(leader, term)
    assert (total, ids) == (len(expected), expected)
    if size <= GRAM_MAX:
        assert backend().gram_count(term, "r") == len(expected)


def test_two_character_words_and_pinyin(people, leader):
    a, b, c = people(
        [
            ("张三", "伊春路168号", "2020年从武汉返回"),
            ("李四", "铁山路22号甲", "独居老人"),
            ("王五", "", ""),
        ]
    )
    assert all_ids(leader, "武汉") == (1, [a.id])
    assert all_ids(leader, "独居") == (1, [b.id])
    assert all_ids(leader, "zhangsan")[1] == [a.id]
    assert all_ids(leader, "zs")[1] == [a.id]
    assert all_ids(leader, "168")[1] == [a.id]
    assert all_ids(leader, "22号甲")[1] == [b.id]
    assert all_ids(leader, '"伊春路 168"')[1] == [a.id]
    assert all_ids(leader, "武汉 OR 独居")[1] == sorted([a.id, b.id])
    assert all_ids(leader, "伊春 -武汉")[0] == 0
    assert all_ids(leader, "独居 号")[1] == [b.id]  # a 1-char word beside others is dropped
    with pytest.raises(ValidationError):
        all_ids(leader, "号 -武汉")  # nothing left to look for


@pytest.mark.parametrize(
    "query, words",
    [("", "请输入"), ("   ", "请输入"), ("路", "两个字"), ("a", "两个字"), ("x" * 201, "过长")],
)
def test_unsearchable_queries_say_why(people, leader, query, words):
    people([("张三", "", "")])
    with pytest.raises(ValidationError) as exc:
        search(actor=leader, query=query, purpose="routine")
    assert words in exc.value.message_dict["q"][0]


@pytest.mark.parametrize(
    "query",
    ["%", "_", '"', "*", "()", ":", "NEAR", "-", 'a" OR "b', "武汉%' OR 1=1 --", "NEAR(武汉 独居)"],
)
def test_fts_and_sql_syntax_is_text(people, leader, query):
    people([("张三", "武汉", "独居 near")])
    try:
        result = search(actor=leader, query=query, purpose="routine")
    except ValidationError as exc:
        assert "q" in exc.message_dict  # refused with a reason, never an engine error
        return
    node = parse(query)
    expected = [r for r in Resident.objects.all() if matches(node, haystack(r))]
    assert result.total == len(expected)


def test_purpose_is_required_and_logged(people, leader):
    people([("张三", "武汉", "")])
    with pytest.raises(ValidationError) as exc:
        search(actor=leader, query="武汉", purpose="")
    assert "purpose" in exc.value.message_dict
    before = AccessLog.objects.count()
    result = search(actor=leader, query="武汉", purpose="outreach")
    assert AccessLog.objects.count() == before + 1
    log = AccessLog.objects.latest("id")
    assert log.action == "search" and log.purpose == "outreach" and log.record_count == result.total
    assert log.filter["q"] == "武汉"


def test_scope_isolation(people, tree, worker_a, worker_b, street_staff, outsider):
    a = Resident.objects.create(name="甲", address="武汉路1号", grid=tree.grid_a1)
    b = Resident.objects.create(name="乙", address="武汉路2号", grid=tree.grid_b1)
    index.flush()
    assert all_ids(worker_a, "武汉")[1] == [a.id]
    assert all_ids(worker_b, "武汉")[1] == [b.id]
    assert all_ids(street_staff, "武汉")[1] == [a.id]  # street A
    with pytest.raises(PermissionDenied):
        search(actor=outsider, query="武汉", purpose="routine")


def test_filters_and_facets(people, tree, leader):
    tag = Tag.objects.get(name="独居老人")
    import datetime as dt

    from django.utils import timezone

    year = timezone.localdate().year
    old = Resident.objects.create(
        name="老人甲", notes="武汉", grid=tree.grid_a1, birth_date=dt.date(year - 85, 5, 1)
    )
    old.tags.add(tag)
    young = Resident.objects.create(
        name="青年乙", notes="武汉", grid=tree.grid_b1, birth_date=dt.date(year - 30, 5, 1)
    )
    index.flush()
    assert all_ids(leader, "武汉", filters=Filters(tag_ids=[tag.id]))[1] == [old.id]
    assert all_ids(leader, "武汉", filters=Filters(age_min=80))[1] == [old.id]
    assert all_ids(leader, "武汉", filters=Filters(age_max=40))[1] == [young.id]
    assert all_ids(leader, "武汉", filters=Filters(street_id=tree.street_b.id))[1] == [young.id]
    result = search(actor=leader, query="武汉", purpose="routine", facets=True)
    assert {f["name"]: f["count"] for f in result.facets["street"]} == {
        "即墨路街道": 1,
        "合肥路街道": 1,
    }
    assert {f["name"]: f["count"] for f in result.facets["tag"]} == {"独居老人": 1}


def test_index_follows_changes_and_archive(people, tree, leader):
    (r,) = people([("张三", "伊春路", "")])
    r.notes = "刚从武汉回来"
    r.save()
    assert all_ids(leader, "武汉")[1] == [r.id]  # flushed before the search
    from django.utils import timezone

    r.archived_at = timezone.now()
    r.save()
    assert all_ids(leader, "武汉")[0] == 0


def test_highlight_escapes(people, leader):
    people([("<b>张三</b>", "武汉", "")])
    hit = search(actor=leader, query="张三", purpose="routine").hits[0]
    assert "<mark>张三</mark>" in hit.title and "&lt;b&gt;" in hit.title


def test_api_search(client, people, leader, worker_b):
    people([("张三", "武汉", "")])
    login(client, leader)
    r = client.get("/api/v1/search/", {"q": "武汉", "purpose": "outreach"})
    assert r.status_code == 200, r.json()
    assert r.json()["total"] == 1
    r = client.get("/api/v1/search/", {"q": "武", "purpose": "outreach"})
    assert r.status_code == 400 and r.json()["field"] == "q"
    r = client.get("/api/v1/search/", {"q": "武汉"})
    assert r.status_code == 400 and r.json()["field"] == "purpose"
    login(client, worker_b)
    assert client.get("/api/v1/search/", {"q": "武汉", "purpose": "routine"}).json()["total"] == 0


def in_scope(r: Resident, street) -> bool:
    return street is None or r.grid.street_id == street.id


short_term = st.text(alphabet=ALPHABET, min_size=2, max_size=5)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(st.tuples(text, text, st.booleans()), min_size=1, max_size=20),
    edits=st.lists(
        st.tuples(
            st.integers(0, 19), st.sampled_from(["notes", "move", "archive", "delete"]), text
        ),
        max_size=8,
    ),
    term=short_term,
)
def test_counts_by_street_follow_edits_moves_and_archive(
    people, tree, leader, street_staff, rows, edits, term
):
    """One term of 2 to 4 characters at district or street scope is counted from the substring
    counts; after edits, moves between streets, archiving and deletes it still equals the
    brute-force filter, as do its ids and the street facets."""
    Resident.objects.all().delete()
    made = [
        Resident.objects.create(
            name=n or "无名", address=a, grid=tree.grid_a1 if in_a else tree.grid_b1
        )
        for n, a, in_a in rows
    ]
    index.flush(limit=100_000)
    for i, what, value in edits:
        r = made[i % len(made)]
        if r.pk is None or r.archived_at:
            continue
        if what == "notes":
            r.notes = value
            r.save()
        elif what == "move":
            r.grid = tree.grid_b1 if r.grid_id == tree.grid_a1.id else tree.grid_a1
            r.save()
        elif what == "archive":
            from django.utils import timezone

            r.archived_at = timezone.now()
            r.save()
        else:
            r.delete()
    index.flush(limit=100_000)
    live = list(Resident.objects.filter(archived_at__isnull=True).select_related("grid"))
    node = parse(term)
    for actor, street in ((leader, None), (street_staff, tree.street_a)):
        expected = sorted(r.id for r in live if in_scope(r, street) and matches(node, haystack(r)))
        assert all_ids(actor, term) == (len(expected), expected)
    result = search(actor=leader, query=term, purpose="routine", facets=True)
    by_street = {f["id"]: f["count"] for f in result.facets.get("street", [])}
    for street in (tree.street_a, tree.street_b):
        n = sum(1 for r in live if in_scope(r, street) and matches(node, haystack(r)))
        assert by_street.get(street.id, 0) == n


def test_street_filter_and_community_facets(people, tree, leader, street_staff):
    a = Resident.objects.create(name="甲", address="武汉路1号", grid=tree.grid_a1)
    Resident.objects.create(name="乙", address="武汉路2号", grid=tree.grid_b1)
    index.flush()
    assert all_ids(leader, "武汉", filters=Filters(street_id=tree.street_a.id)) == (1, [a.id])
    assert all_ids(street_staff, "武汉", filters=Filters(street_id=tree.street_b.id))[0] == 0
    result = search(actor=street_staff, query="武汉", purpose="routine", facets=True)
    assert [(f["name"], f["count"]) for f in result.facets["community"]] == [("小港社区", 1)]
    community = tree.grid_a1.community_id
    assert all_ids(leader, "武汉", filters=Filters(community_id=community)) == (1, [a.id])


def test_page_shows_highlights_and_facets_that_filter(client, people, tree, leader):
    tag = Tag.objects.get(name="独居老人")
    a = Resident.objects.create(name="张三", address="武汉路1号", grid=tree.grid_a1)
    a.tags.add(tag)
    Resident.objects.create(name="李四", address="武汉路2号", grid=tree.grid_b1)
    index.flush()
    login(client, leader)
    html = client.get("/search/", {"q": "武汉", "purpose": "routine"}).content.decode()
    assert "<mark>武汉</mark>" in html
    assert f"street_id={tree.street_a.id}" in html and f"tag={tag.id}" in html
    html = client.get(
        "/search/", {"q": "武汉", "purpose": "routine", "street_id": tree.street_a.id}
    ).content.decode()
    assert html.count('data-testid="hit"') == 1 and 'data-testid="clear-street"' in html
    assert f"community_id={tree.grid_a1.community_id}" in html
    html = client.get(
        "/search/", {"q": "武汉", "purpose": "routine", "tag": tag.id}
    ).content.decode()
    assert html.count('data-testid="hit"') == 1


def test_counts_fall_back_to_the_index_until_recounted(people, leader, street_staff):
    from yiwang.search.backends import backend

    people([("张三", "伊春路168号", "独居老人"), ("李四", "伊春路2号", ""), ("王五", "", "")])
    queries = ["伊春", "伊春路", "独居老人", "zhang", "168号"]
    before = [(all_ids(a, q)) for q in queries for a in (leader, street_staff)]
    backend().gram_clear()  # counts gone, and with them the mark saying what they cover
    assert [(all_ids(a, q)) for q in queries for a in (leader, street_staff)] == before
    assert index.regram() == 3
    assert [(all_ids(a, q)) for q in queries for a in (leader, street_staff)] == before
    assert before[0][0] == 2 and before[4][0] == 1
