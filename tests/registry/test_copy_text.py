"""COPY text made by hand (registry.bulk.copy_row) reads back as the values it was made from,
whatever the text holds: tabs, newlines, backslashes, the two characters \\N."""

import re

from hypothesis import given
from hypothesis import strategies as st

from yiwang.registry.bulk import copy_row

_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_UNESCAPE = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def read_back(line: str) -> list:
    """PostgreSQL's reading of one COPY text line (the escapes copy_row writes)."""
    return [
        None if field == "\\N" else _ESCAPE.sub(lambda m: _UNESCAPE[m.group(1)], field)
        for field in line.split("\t")
    ]


def as_text(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return repr(value)
    return str(value)


values = st.one_of(
    st.text(alphabet=st.sampled_from("ab张三\t\n\r\\N 1")),
    st.text(),
    st.none(),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
)


@given(st.lists(values, min_size=1, max_size=12))
def test_a_row_reads_back_as_its_values(row):
    assert read_back(copy_row(row)) == [as_text(v) for v in row]
    assert read_back(copy_row(tuple(row))) == [as_text(v) for v in row]


def test_plain_text_goes_through_as_it_is():
    row = ["张三", None, 3, 1.5, True, "铁山路22号", ""]
    assert copy_row(row) == "张三\t\\N\t3\t1.5\tt\t铁山路22号\t"
    assert copy_row(["a\\Nb", None]) == "a\\\\Nb\t\\N"


texts = st.text(alphabet=st.sampled_from("ab张三\t\n\r\\N 1"))
optional_text = st.one_of(texts, st.none())
ids = st.one_of(st.none(), st.integers(min_value=1, max_value=2**40))
coords = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False))


@given(
    st.lists(texts, min_size=20, max_size=20),
    optional_text,
    ids,
    ids,
    coords,
    coords,
    st.booleans(),
)
def test_a_new_residents_line_is_copy_rows(row, birth, building, grid, lat, lng, party):
    """The importer's own line maker for a resident (types in known places) writes what
    copy_row writes, for any text, including a None where text was expected."""
    from yiwang.registry.importer import _copy_resident

    row[2], row[5], row[6], row[7], row[8], row[14] = birth, building, grid, lat, lng, party
    assert _copy_resident(list(row)) == copy_row(row)
    row[11] = None
    assert _copy_resident(list(row)) == copy_row(row)


@given(st.integers(min_value=1), texts, texts, ids, texts, coords, coords)
def test_a_new_houses_place_is_copy_rows(building, unit, room, grid, address, lat, lng):
    from yiwang.registry.importer import _copy_where

    where = (building, unit, room, grid, address, lat, lng)
    assert _copy_where(where) == copy_row(where)
