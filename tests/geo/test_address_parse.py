"""Address parser: a table of real-world addresses plus property tests.

Pure Python; runs without Django: ``pytest tests/geo/test_address_parse.py -p no:django``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

try:
    from yiwang.geo.address_parse import ParsedAddress, normalize, parse_address
except ModuleNotFoundError:  # the package is not installed yet: import it from the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
    from yiwang.geo.address_parse import ParsedAddress, normalize, parse_address

COMPONENTS = (
    "province",
    "city",
    "district",
    "street_office",
    "community",
    "road",
    "number",
    "compound",
    "building",
    "unit",
    "floor",
    "room",
)

# A representative slice of Shibei roads, including numbered (延安三路, 台东一路), three-character
# (哈尔滨路) and directional (重庆南路) names.
ROADS = (
    "伊春路",
    "铁山路",
    "九江路",
    "重庆路",
    "重庆南路",
    "蚌埠路",
    "人民路",
    "平安路",
    "即墨路",
    "辽宁路",
    "兴隆路",
    "阜新路",
    "合肥路",
    "延安三路",
    "延安一路",
    "台东一路",
    "台东八路",
    "威海路",
    "登州路",
    "南京路",
    "敦化路",
    "小港一路",
    "利津路",
    "华阳路",
    "四方路",
    "哈尔滨路",
    "鞍山二路",
    "山东路",
    "吉林路",
    "长春路",
)
KNOWN_ROADS = frozenset(ROADS)
KNOWN_COMPOUNDS = frozenset({"建国新村", "海晶华庭", "紫云台小区", "海信花园"})


def _row(text: str, rest: str | None = None, **fields: str) -> Any:
    return pytest.param(text, fields, rest, id=text[:40] or "<empty>")


# Every component not listed must come out empty; ``rest`` is checked when given.
TABLE = [
    # --- From the source document and DESIGN --------------------------------------------
    _row(
        "青岛市市北区伊春路168号紫云台小区3号楼2单元501室",
        "",
        city="青岛市",
        district="市北区",
        road="伊春路",
        number="168",
        compound="紫云台小区",
        building="3",
        unit="2",
        room="501",
    ),
    _row(
        "市北区伊春路168号紫云台小区",
        "",
        district="市北区",
        road="伊春路",
        number="168",
        compound="紫云台小区",
    ),
    _row("铁山路22号甲", "", road="铁山路", number="22甲"),
    # Decided: "小区" with no name before it is not a compound; it stays in rest.
    _row("市北区铁山路22号甲小区后院", "小区后院", district="市北区", road="铁山路", number="22甲"),
    # Decided: "N楼" right after a compound is building N.
    _row("九江路某小区22楼", "", road="九江路", compound="某小区", building="22"),
    _row("平安路39号建国新村", "", road="平安路", number="39", compound="建国新村"),
    _row("人民路", "", road="人民路"),
    # Decided: an intersection gives the first road; the second stays in rest.
    _row("重庆路蚌埠路口", "蚌埠路口", road="重庆路"),
    _row("伊春路１６８号", "", road="伊春路", number="168"),
    _row("伊 春 路 168 号", "", road="伊春路", number="168"),
    _row("伊春路,168号.", "", road="伊春路", number="168"),
    _row(
        "山东省青岛市市北区辽宁路街道贮水山社区延安三路20号",
        "",
        province="山东省",
        city="青岛市",
        district="市北区",
        street_office="辽宁路街道",
        community="贮水山社区",
        road="延安三路",
        number="20",
    ),
    _row("168-1号", "", number="168-1"),
    _row("台东一路56号甲2单元301", "", road="台东一路", number="56甲", unit="2", room="301"),
    # Decided: "10号院" is number 10; the lone 院 stays in rest.
    _row("小港一路10号院", "院", road="小港一路", number="10"),
    _row(
        "紫云台小区三号楼二单元五零一室",
        "",
        compound="紫云台小区",
        building="3",
        unit="2",
        room="501",
    ),
    _row(
        "市北区伊春路168号紫云台小区门口早晨7点左右",
        "门口早晨7点左右",
        district="市北区",
        road="伊春路",
        number="168",
        compound="紫云台小区",
    ),
    # --- Prefixes ---------------------------------------------------------------------
    _row(
        "中国山东省青岛市市北区合肥路678号",
        "",
        province="山东省",
        city="青岛市",
        district="市北区",
        road="合肥路",
        number="678",
    ),
    _row(
        "山东青岛市北区伊春路168号",
        "",
        province="山东省",
        city="青岛市",
        district="市北区",
        road="伊春路",
        number="168",
    ),
    _row("青岛市北区兴隆路3号", "", city="青岛市", district="市北区", road="兴隆路", number="3"),
    _row("市北伊春路168号", "", district="市北区", road="伊春路", number="168"),
    _row("青岛伊春路168号", "", city="青岛市", road="伊春路", number="168"),
    # 山东路 / 即墨路 are roads, not the province / the 即墨 district.
    _row("山东路168号", "", road="山东路", number="168"),
    _row("即墨路15号", "", road="即墨路", number="15"),
    _row(
        "市北区敦化路街道兴德路社区伊春路168号",
        "",
        district="市北区",
        street_office="敦化路街道",
        community="兴德路社区",
        road="伊春路",
        number="168",
    ),
    _row(
        "辽宁路街道办事处贮水山社区居委会延安三路20号",
        "",
        street_office="辽宁路街道",
        community="贮水山社区",
        road="延安三路",
        number="20",
    ),
    _row(
        "市北区大港街道小港一路28号",
        "",
        district="市北区",
        street_office="大港街道",
        road="小港一路",
        number="28",
    ),
    _row("辽宁路街道", "", street_office="辽宁路街道"),
    _row(
        "您好，我住在市北区伊春路168号紫云台小区",
        "您好我住在",
        district="市北区",
        road="伊春路",
        number="168",
        compound="紫云台小区",
    ),
    # --- House numbers ----------------------------------------------------------------
    _row("伊春路168号之1", "", road="伊春路", number="168之1"),
    _row("伊春路168之1号", "", road="伊春路", number="168之1"),
    _row("铁山路22甲号", "", road="铁山路", number="22甲"),
    _row("威海路192号乙", "", road="威海路", number="192乙"),
    _row("伊春路168—1号", "", road="伊春路", number="168-1"),
    _row("伊春路168－1号紫云台小区", "", road="伊春路", number="168-1", compound="紫云台小区"),
    _row("兴隆路二十三号", "", road="兴隆路", number="23"),
    _row("伊春路168", "", road="伊春路", number="168"),
    _row("伊春路168紫云台小区", "", road="伊春路", number="168", compound="紫云台小区"),
    _row("登州路56号", "", road="登州路", number="56"),
    _row("四方路10号", "", road="四方路", number="10"),
    _row("延安三路20号", "", road="延安三路", number="20"),
    _row("重庆南路168号", "", road="重庆南路", number="168"),
    _row("哈尔滨路5号", "", road="哈尔滨路", number="5"),
    # A date is not a house number.
    _row("12月7号伊春路168号", "12月7号", road="伊春路", number="168"),
    # --- Building / unit / floor / room -------------------------------------------------
    _row(
        "紫云台小区3-2-501",
        "",
        compound="紫云台小区",
        building="3",
        unit="2",
        room="501",
    ),
    _row(
        "伊春路168号紫云台小区3-2-501室",
        "",
        road="伊春路",
        number="168",
        compound="紫云台小区",
        building="3",
        unit="2",
        room="501",
    ),
    _row("九江路3-2-501", "", road="九江路", building="3", unit="2", room="501"),
    _row(
        "海信花园5栋1单元1202",
        "",
        compound="海信花园",
        building="5",
        unit="1",
        room="1202",
    ),
    _row(
        "阜新路88号福彩大厦12层",
        "",
        road="阜新路",
        number="88",
        compound="福彩大厦",
        floor="12",
    ),
    _row(
        "合肥路678号山海家园2期3号楼",
        "",
        road="合肥路",
        number="678",
        compound="山海家园2期",
        building="3",
    ),
    _row(
        "南京路100号3栋2单元401",
        "",
        road="南京路",
        number="100",
        building="3",
        unit="2",
        room="401",
    ),
    _row("敦化路328号A座1505室", "", road="敦化路", number="328", building="A", room="1505"),
    _row("利津路13号3号楼", "", road="利津路", number="13", building="3"),
    _row("兴隆路3号楼", "", road="兴隆路", building="3"),
    _row("华阳路3号院内", "院内", road="华阳路", number="3"),
    _row("伊春路168号3单元502", "", road="伊春路", number="168", unit="3", room="502"),
    # Decided: "N楼" after a building and unit is the floor.
    _row(
        "伊春路168号紫云台小区3号楼2单元5楼",
        "",
        road="伊春路",
        number="168",
        compound="紫云台小区",
        building="3",
        unit="2",
        floor="5",
    ),
    _row(
        "伊春路168号紫云台小区3号楼2-501",
        "",
        road="伊春路",
        number="168",
        compound="紫云台小区",
        building="3",
        unit="2",
        room="501",
    ),
    _row("紫云台小区3-501", "", compound="紫云台小区", building="3", room="501"),
    _row("伊春路168号501室", "", road="伊春路", number="168", room="501"),
    _row("伊春路168号501户", "", road="伊春路", number="168", room="501"),
    _row("阜新路88号第3单元", "", road="阜新路", number="88", unit="3"),
    _row("紫云台小区3#楼2单元", "", compound="紫云台小区", building="3", unit="2"),
    _row(
        "铁山路22号甲1单元101",
        "",
        road="铁山路",
        number="22甲",
        unit="1",
        room="101",
    ),
    _row(
        "蚌埠路22号5号楼3单元201",
        "",
        road="蚌埠路",
        number="22",
        building="5",
        unit="3",
        room="201",
    ),
    _row(
        "四方路10号广兴里3号",
        "",
        road="四方路",
        number="10",
        compound="广兴里",
        building="3",
    ),
    _row(
        "伊春路168号紫云台小区二十二号楼三单元十八层",
        "",
        road="伊春路",
        number="168",
        compound="紫云台小区",
        building="22",
        unit="3",
        floor="18",
    ),
    # Decided: without a road, "N号" after a compound is the building.
    _row("紫云台小区3号2单元", "", compound="紫云台小区", building="3", unit="2"),
    _row("伊春路168ー1号", "", road="伊春路", number="168-1"),
    _row(
        "伊春路168号3号楼下有垃圾",
        "下有垃圾",
        road="伊春路",
        number="168",
        building="3",
    ),
    # --- Compounds ----------------------------------------------------------------------
    _row("紫云台小区", "", compound="紫云台小区"),
    _row("福彩大厦", "", compound="福彩大厦"),
    _row(
        "伊春路168号纺织宿舍3号楼",
        "",
        road="伊春路",
        number="168",
        compound="纺织宿舍",
        building="3",
    ),
    # A 社区 with nothing after it that looks like a road or number is read as a compound.
    _row("贮水山社区3号楼", "", compound="贮水山社区", building="3"),
    _row(
        "家住贮水山社区延安三路20号",
        "家住",
        road="延安三路",
        number="20",
        compound="贮水山社区",
    ),
    _row("登州路56号青岛啤酒博物馆", "青岛啤酒博物馆", road="登州路", number="56"),
    # --- Hotline sentences ---------------------------------------------------------------
    _row(
        "居民反映伊春路168号楼道堆放杂物",
        "居民反映楼道堆放杂物",
        road="伊春路",
        number="168",
    ),
    _row("伊春路与重庆路交叉口", "与重庆路交叉口", road="伊春路"),
    _row(
        "居民投诉伊春路紫云台小区门口占道经营",
        "居民投诉门口占道经营",
        road="伊春路",
        compound="紫云台小区",
    ),
    _row("垃圾车停在华阳路上", "垃圾车停在上", road="华阳路"),
    _row("我们一路走到伊春路", "我们一路走到", road="伊春路"),
    _row("🏠伊春路168号😀", "", road="伊春路", number="168"),
    # --- Nothing to parse ---------------------------------------------------------------
    _row("", ""),
    _row("   ", ""),
    _row("请尽快处理", "请尽快处理"),
    _row("asdf", "asdf"),
    _row('%_"*():NEAR -', "NEAR"),
    _row("'; DROP TABLE roads; --", "DROPTABLEroads"),
    _row("，。！？", ""),
]


def _check(parsed: ParsedAddress, fields: dict[str, str], rest: str | None) -> None:
    got = {name: getattr(parsed, name) for name in COMPONENTS}
    want = {name: fields.get(name, "") for name in COMPONENTS}
    assert got == want
    if rest is not None:
        assert parsed.rest == rest


@pytest.mark.parametrize(("text", "fields", "rest"), TABLE)
def test_table_without_known_names(text: str, fields: dict[str, str], rest: str | None) -> None:
    parsed = parse_address(text)
    assert parsed.raw == text
    assert parsed.normalized == normalize(text)
    _check(parsed, fields, rest)


@pytest.mark.parametrize(("text", "fields", "rest"), TABLE)
def test_table_with_known_names(text: str, fields: dict[str, str], rest: str | None) -> None:
    parsed = parse_address(text, known_roads=KNOWN_ROADS, known_compounds=KNOWN_COMPOUNDS)
    _check(parsed, fields, rest)


# --- Cases where the known-name lists make the difference ----------------------------------


def test_known_compound_without_typical_suffix() -> None:
    text = "伊春路168号海晶华庭2号楼"
    plain = parse_address(text)
    assert (plain.compound, plain.building, plain.rest) == ("", "2", "海晶华庭")
    known = parse_address(text, known_compounds=KNOWN_COMPOUNDS)
    assert (known.compound, known.building, known.rest) == ("海晶华庭", "2", "")


def test_known_compound_is_taken_verbatim() -> None:
    # The pattern rules keep a phase with the compound; a known name is kept exactly as listed,
    # because that is what the resolver can match, and the phase goes to rest.
    text = "合肥路678号海信花园2期3号楼"
    plain = parse_address(text)
    assert (plain.compound, plain.building, plain.rest) == ("海信花园2期", "3", "")
    known = parse_address(text, known_compounds=KNOWN_COMPOUNDS)
    assert (known.compound, known.building, known.rest) == ("海信花园", "3", "2期")


def test_known_road_inside_a_sentence() -> None:
    # Without the list the run "小贩哈尔滨" cannot be told apart from a road name.
    text = "投诉小贩哈尔滨路摆摊"
    assert parse_address(text).road != "哈尔滨路"
    parsed = parse_address(text, known_roads=KNOWN_ROADS)
    assert parsed.road == "哈尔滨路"
    assert parsed.rest == "投诉小贩摆摊"


def test_known_road_followed_by_number_wins() -> None:
    parsed = parse_address("哈尔滨路附近伊春路168号", known_roads=KNOWN_ROADS)
    assert (parsed.road, parsed.number) == ("伊春路", "168")


def test_longest_known_road_wins() -> None:
    roads = frozenset({"延安路", "延安三路", "安三路"})
    parsed = parse_address("延安三路20号", known_roads=roads)
    assert (parsed.road, parsed.number, parsed.rest) == ("延安三路", "20", "")


def test_known_names_are_normalised() -> None:
    parsed = parse_address("伊春路168号", known_roads=[" 伊春路 "], known_compounds={"紫云台 小区"})
    assert parsed.road == "伊春路"


def test_known_compound_blocks_a_road_inside_it() -> None:
    parsed = parse_address("兴德路社区3号楼", known_compounds=frozenset({"兴德路社区"}))
    assert (parsed.road, parsed.compound, parsed.building) == ("", "兴德路社区", "3")


def test_known_names_accept_any_collection() -> None:
    for roads in (["伊春路"], ("伊春路",), {"伊春路"}, frozenset({"伊春路"}), "伊春路"):
        assert parse_address("伊春路168号", known_roads=roads).road == "伊春路"


# --- Normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("伊春路１６８号", "伊春路168号"),
        ("伊 春 路\t168\u3000号", "伊春路168号"),
        ("伊春路，168号。", "伊春路168号"),
        ("【伊春路】168号（紫云台）", "伊春路168号紫云台"),
        ("168－1号", "168-1号"),
        ("168—1号", "168-1号"),
        ("168~1号", "168-1号"),
        ("-168-", "168"),
        ("延安三路二号楼", "延安三路2号楼"),
        ("三号楼二单元五零一室", "3号楼2单元501室"),
        ("二十三号楼十一单元一百零八室", "23号楼11单元108室"),
        ("十层", "10层"),
        ("3#楼", "3号楼"),
        ("ＡＢＣ", "ABC"),
        ("", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_never_raises_on_odd_input() -> None:
    odd: list[Any] = [
        None,
        "",
        " ",
        "\x00\x01",
        "占道经营" * 500,
        "伊春路" * 3000,
        "1" * 10_000,
        "1-" * 5000,
        "路" * 10_000,
        "小区" * 5000,
        "\ud800",  # lone surrogate
        "🏠" * 100,
    ]
    for text in odd:
        parsed = parse_address(text)
        assert isinstance(parsed, ParsedAddress)
    long = parse_address("占道经营" * 500)
    assert (long.road, long.number, long.compound) == ("", "", "")
    assert long.rest == "占道经营" * 500


def test_long_input_is_fast() -> None:
    start = time.perf_counter()
    parse_address(("伊春路168号紫云台小区门口占道经营" * 400)[:10_000])
    assert time.perf_counter() - start < 1.0


# --- Property tests ----------------------------------------------------------------------

COMPOUNDS = (
    "紫云台小区",
    "建国新村",
    "海信花园",
    "福彩大厦",
    "万科城市花园",
    "广兴里",
    "积厚里",
    "山海家园",
    "金海公寓",
    "同安苑",
    "纺织宿舍",
    "国际广场",
    "鲁商城",
    "东山村",
)


@st.composite
def well_formed_address(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    expected: dict[str, str] = {}
    parts: list[str] = []
    if draw(st.booleans()):
        parts.append("青岛市市北区")
        expected.update(city="青岛市", district="市北区")
    road = draw(st.sampled_from(ROADS))
    number = str(draw(st.integers(1, 999)))
    letter = draw(st.sampled_from(["", "甲", "乙"]))
    number_text = draw(st.sampled_from([f"{number}号{letter}", f"{number}{letter}号"]))
    parts += [road, number_text]
    expected.update(road=road, number=number + letter)
    if draw(st.booleans()):
        compound = draw(st.sampled_from(COMPOUNDS))
        parts.append(compound)
        expected["compound"] = compound
    building = draw(st.none() | st.integers(1, 60).map(str))
    unit = draw(st.none() | st.integers(1, 9).map(str))
    room = draw(st.none() | st.integers(101, 2899).map(str))
    if building and unit and room and draw(st.booleans()):
        parts.append(f"{building}-{unit}-{room}")
    else:
        if building:
            parts.append(building + draw(st.sampled_from(["号楼", "栋", "幢", "座"])))
        if unit:
            parts.append(unit + "单元")
        if room:
            # A bare trailing room number is only unambiguous after a building or unit.
            bare_ok = bool(building or unit)
            parts.append(
                room + draw(st.sampled_from(["室", "户", ""] if bare_ok else ["室", "户"]))
            )
    expected.update(building=building or "", unit=unit or "", room=room or "")
    return "".join(parts), expected


@settings(max_examples=400, deadline=None)
@given(well_formed_address(), st.booleans())
def test_well_formed_addresses_round_trip(
    case: tuple[str, dict[str, str]], with_known_roads: bool
) -> None:
    text, expected = case
    roads = KNOWN_ROADS if with_known_roads else ()
    parsed = parse_address(text, known_roads=roads)
    _check(parsed, expected, "")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
@example("\u1100.\u1161")  # jamo joined by removing the dot must still be stable
@example("e.\u0301")
@example("1.-2")
def test_parse_never_raises(text: str) -> None:
    parsed = parse_address(text)
    assert parsed.raw == text
    assert parsed.normalized == normalize(text)


ADDRESSY = st.text(
    alphabet=st.sampled_from(
        list("伊春路铁山号甲之楼栋单元层室户小区花园里院街道社市北区青岛0123456789-－ ，一二三十")
    )
)


@settings(max_examples=300, deadline=None)
@given(ADDRESSY, st.booleans())
def test_parse_never_raises_on_address_like_noise(text: str, with_known_roads: bool) -> None:
    roads = KNOWN_ROADS if with_known_roads else ()
    parsed = parse_address(text, known_roads=roads, known_compounds=KNOWN_COMPOUNDS)
    assert isinstance(parsed, ParsedAddress)


@settings(max_examples=500, deadline=None)
@given(st.text() | ADDRESSY)
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@settings(max_examples=200, deadline=None)
@given(well_formed_address())
def test_parse_of_normalized_text_is_the_same(case: tuple[str, dict[str, str]]) -> None:
    text, _ = case
    first = parse_address(text)
    again = parse_address(first.normalized)
    assert {n: getattr(first, n) for n in COMPONENTS} == {n: getattr(again, n) for n in COMPONENTS}
