"""Split free-text Chinese street addresses into their components.

Residents, hotline operators and grid workers type addresses in every shape: with or without the
"山东省青岛市市北区" prefix, with full-width digits, stray spaces and punctuation, Chinese numerals
for buildings and rooms, and often inside a sentence ("市北区伊春路168号紫云台小区门口早晨7点左右").
This module only *splits* such text into components; it never looks anything up. Matching the
components against the address base is the resolver's job, so every heuristic here prefers
leaving text in ``rest`` over inventing a component.

Pure Python on purpose: no Django import, so it can run in scripts, workers and tests alike.

Parsing order (each step works on what the earlier steps left over):

1. :func:`normalize` the text.
2. Strip administrative prefixes: 中国, province, city, district, street office (X街道), and a
   community (X社区) when the text after it still holds a road or a house number.
3. Find a known compound (longest occurrence of ``known_compounds``), then the road: the best
   occurrence of ``known_roads`` or, failing that, a road-shaped run of characters.
4. Read the house number directly after the road.
5. Read the remaining gaps left to right for compound, building, unit, floor and room; anything
   else goes to ``rest`` in reading order.

Decisions worth knowing (the tests pin each of them):

* "N楼" means building N (Qingdao usage: "九江路某小区22楼" is building 22) unless a building,
  unit or room was already read, in which case it is the floor ("3号楼2单元5楼" → floor 5).
* "10号院" gives number 10 and leaves "院" in ``rest``; a compound needs a name before its
  suffix, so "22号甲小区后院" gives number "22甲", no compound and rest "小区后院".
* An intersection "重庆路蚌埠路口" gives road 重庆路 (the first road) and rest "蚌埠路口".
* "N号" after a compound is the building when the house number is already known, or when there
  is no road (a house number without a road is useless to the resolver).
* A bare "3-2-501" is building-unit-room; a bare "2-501" after a building is unit-room and
  otherwise building-room.
* Without ``known_roads`` a road is the longest plausible name before its suffix, trimmed at
  words that cannot belong to a road name ("反映", "在", "小区", ...). Roads ending in 道 or 里
  are accepted only before a house number, since "楼道", "人行道", "家里", "垃圾桶里" are far
  more common in complaints than such roads at the end of a text.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass

__all__ = ["ParsedAddress", "normalize", "parse_address"]


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    """Components of one address; a field is "" when the text did not give it."""

    raw: str
    normalized: str  # after normalize(), prefixes kept
    province: str = ""  # "山东省"
    city: str = ""  # "青岛市"
    district: str = ""  # "市北区"
    street_office: str = ""  # "辽宁路街道"
    community: str = ""  # "兴德路社区", only as an admin unit before the road
    road: str = ""  # "伊春路"
    number: str = ""  # house number without 号: "168", "22甲", "168-1", "168之1"
    compound: str = ""  # "紫云台小区"
    building: str = ""  # "3"
    unit: str = ""  # "2"
    floor: str = ""  # "22"
    room: str = ""  # "501"
    rest: str = ""  # unparsed text in reading order ("门口", "小区后院", ...)


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

_WS_RE = re.compile(r"\s+")
# Dash look-alikes between digits ("168－1", "168—1", "3~5", IME "168ー1") all mean a range or
# sub-number. NFKC has already turned the full-width forms into "-" and "~".
_DASH_RE = re.compile(r"(?<=[0-9])[-~\u2010-\u2015\u2212\u2500\u301c\u30fc]+(?=[0-9])")
# "3#楼", "3#" are common shorthand for 3号楼 / 3号.
_HASH_RE = re.compile(r"(?<=[0-9])#")
# Everything that is not a letter or digit goes, except a "-" with a digit on both sides.
_JUNK_RE = re.compile(r"(?<![0-9])-|-(?![0-9])|[^\w-]|_")
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
# Chinese numerals only where they count something we parse; never inside a road name, so
# "延安三路" keeps its 三 (路 is not in the look-ahead).
_CN_NUM_RE = re.compile(r"[零〇一二三四五六七八九十百]+(?=号|单元|栋|幢|座|层|楼|室|户)")


def _cn_to_int_text(run: str) -> str:
    """Chinese numeral run to digits.

    "三" → "3", "二十三" → "23", "一百零八" → "108"; without 十/百 digit by digit: "五零一" → "501".
    """
    if "十" not in run and "百" not in run:
        return "".join(str(_CN_DIGITS[ch]) for ch in run)
    total = 0
    current = 0
    for ch in run:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _CN_DIGITS[ch]
    return str(total + current)


def normalize(text: str) -> str:
    """Canonical text form: half-width, no whitespace or punctuation, counted numerals as digits.

    Steps: NFKC; drop whitespace; dash look-alikes between digits → "-"; "3#" → "3号"; drop every
    other non-alphanumeric character; Chinese numerals before 号/楼/单元/栋/幢/座/层/室/户 → digits.
    Idempotent: ``normalize(normalize(x)) == normalize(x)``.
    """
    if not text:
        return ""
    s = unicodedata.normalize("NFKC", text)
    # Fast path: text that is all letters and digits has nothing to strip (most real input);
    # "ー" is a letter to Unicode but an IME dash here.
    stripped = not s.isalnum() or "ー" in s
    if stripped:
        s = _WS_RE.sub("", s)
        s = _DASH_RE.sub("-", s)
        if "#" in s:
            s = _HASH_RE.sub("号", s)
        s = _JUNK_RE.sub("", s)
    s = _CN_NUM_RE.sub(_cn_numeral_to_digits, s)
    if stripped:
        # Removing characters can bring Hangul jamo together that NFKC composes; one more pass
        # keeps the function idempotent on arbitrary input (a no-op for Chinese text).
        s = unicodedata.normalize("NFKC", s)
    return s


def _cn_numeral_to_digits(m: re.Match[str]) -> str:
    return _cn_to_int_text(m.group(0))


# --------------------------------------------------------------------------------------------
# Administrative prefixes
# --------------------------------------------------------------------------------------------

_ROAD_TAIL = "路街巷道"
# Short forms must not be the start of a road: "山东路", "青岛路" and "即墨路" are real roads.
# "青岛市北区" is 青岛 + 市北区, not 青岛市 + 北区. "青岛市立医院" is a hospital, not the city.
_ADMIN_RE = re.compile(
    r"(?P<country>中华人民共和国|中国)?"
    rf"(?P<province>山东省|山东(?![{_ROAD_TAIL}]))?"
    rf"(?P<city>青岛(?=市[北南]区)|青岛市(?![立民])|青岛(?![{_ROAD_TAIL}市]))?"
    r"(?P<district>市北区|市南区|李沧区|崂山区|城阳区|黄岛区|西海岸新区|即墨区|胶州市|平度市|莱西市"
    rf"|市北(?![{_ROAD_TAIL}区]))?"
)
# Full forms that may start an address in the middle of a sentence ("您好我住在市北区...").
_ADMIN_SEARCH_RE = re.compile(
    r"中华人民共和国|中国|山东省|青岛市(?![立民])|市北区|市南区|李沧区|崂山区|城阳区|黄岛区|西海岸新区"
    r"|即墨区|胶州市|平度市|莱西市"
)
_CANON_ADMIN = {"山东": "山东省", "青岛": "青岛市", "市北": "市北区"}
# Text before a mid-sentence prefix must not look like an address itself.
_ADDRESSY_RE = re.compile(r"[0-9路街巷道里号楼]")

_CJK = "\u3400-\u4dbf\u4e00-\u9fff"
# 街道 names: "辽宁路街道", "大港街道", "浮山新区街道". No 路/街 inside except the 路 just before.
_STREET_OFFICE_RE = re.compile(rf"(?:(?![路街])[{_CJK}]){{1,6}}?路?街道(?:办事处)?")
# Characters that cannot be part of a compound or community name: function words and landmark
# words of complaint text ("门口", "楼下", "对面", "后院").
_STOP_CHARS = frozenset("的在住于是与及到从往对这那个有被把将了着门口边旁附近楼下上内外后处们请要")
_STOP_CLASS = "".join(sorted(_STOP_CHARS))
_COMMUNITY_RE = re.compile(
    rf"(?:(?!社区)(?![{_STOP_CLASS}])[{_CJK}]){{1,8}}?社区(?:居民委员会|居委会|居委)?"
)
_COMMUNITY_TAIL_RE = re.compile(r"(?:居民委员会|居委会|居委)$")

# --------------------------------------------------------------------------------------------
# Roads
# --------------------------------------------------------------------------------------------

_ROAD_SUFFIX_RE = re.compile(r"胡同|大道|大街|支路|路|街(?!道)|(?<!街)道|巷|弄|里")
# Suffixes that may end a road in the middle of a text ("重庆路蚌埠路口", "九江路某小区").
_MIDTEXT_SUFFIXES = frozenset({"路", "街", "大道", "大街", "支路"})
# Suffixes too common in ordinary words to accept without a house number after them.
_NUMBER_ONLY_SUFFIXES = frozenset({"道", "里"})
_ROAD_BODY_MAX_SCAN = 10
_ROAD_BODY_EXCLUDED = frozenset("路街巷")
# Cut the body after these: they never occur in a road name.
_ROAD_STRONG_MARKERS = re.compile(
    r"反映|位于|投诉|举报|地址|地点|住在|家住|门口|对面|附近|楼下|楼上|楼道|小区|社区|号楼|单元"
    r"|[在住的号层室户院这那条们请到从往]"
)
# These may occur in road names ("和平路", "市场三路", "于家路"), so they only cut long bodies.
_ROAD_WEAK_MARKERS = re.compile(r"[和与及或近靠沿临是至向区市省楼里村城园苑于]")
_ROAD_NAME_TAIL = frozenset("一二三四五六七八九十东西南北中支大")
_ROAD_STOPWORDS = frozenset(
    {
        "马路",
        "道路",
        "公路",
        "铁路",
        "一路",
        "走路",
        "过路",
        "修路",
        "人行道",
        "下水道",
        "车行道",
        "非机动车道",
        "机动车道",
        "地下通道",
        "消防通道",
        "安全通道",
        "小巷",
        "胡同",
        "大街",
        "大道",
    }
)

# House number right after a road: "168号", "168-1号", "22号甲", "22甲号", "168号之1", "168之1号",
# or bare digits ("伊春路168紫云台") when what follows is not a unit of something else.
_NUMBER_AFTER_ROAD_RE = re.compile(
    r"(?P<n>[0-9]+(?:-[0-9]+)?)"
    r"(?:(?P<a>[甲乙丙丁])号"
    r"|号(?!楼(?!道))(?:(?P<b>[甲乙丙丁])|之(?P<c>[0-9]+))?"
    r"|之(?P<d>[0-9]+)号"
    r"|(?P<e>[甲乙丙丁])?(?![-0-9号单元层室户楼栋幢座点时分秒米元块个人辆天年月日岁次平斤吨公期]))"
)

# A house number anywhere; used only to decide whether a community is followed by a house number.
_SEGMENT_NUMBER_RE = re.compile(r"[0-9]+(?:-[0-9]+)?(?:号(?!楼(?!道))|[甲乙丙丁]号|之[0-9]+号)")


# --------------------------------------------------------------------------------------------
# Everything after (or before) the road
# --------------------------------------------------------------------------------------------

# Each alternative is wrapped in an outer group named K_<kind> so m.lastgroup names the kind.
_SEGMENT_RE = re.compile(
    r"(?P<K_bru>(?P<b1>[0-9]+)-(?P<u1>[0-9]+)-(?P<r1>[0-9]+)(?:室|户|号)?)"
    r"|(?P<K_bld>第?(?P<bld>[0-9]+|[A-Za-z])(?:号楼(?!道)|栋|幢|座))"
    r"|(?P<K_unit>第?(?P<unit>[0-9]+)单元)"
    r"|(?P<K_floor>第?(?P<flr>[0-9]+)层)"
    r"|(?P<K_lou>(?P<lou>[0-9]+)楼(?!道))"
    r"|(?P<K_room>(?P<room>[0-9]+)(?:室|户|房))"
    r"|(?P<K_num>(?P<n>[0-9]+(?:-[0-9]+)?)"
    r"(?:(?P<na>[甲乙丙丁])号|号(?:(?P<nb>[甲乙丙丁])|之(?P<nc>[0-9]+))?|之(?P<nd>[0-9]+)号))"
    r"|(?P<K_pair>(?P<p1>[0-9]+)-(?P<p2>[0-9]+)(?![-0-9]))"
    r"|(?P<K_bare>(?P<bare>[0-9]+)(?![-0-9]))"
)
_SEGMENT_START = frozenset("0123456789第ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
# After bare digits these say "a quantity or a time", not a room ("早晨7点").
_QUANTITY_CHARS = frozenset("点时分秒米元块个人辆天年月日岁次平斤吨公期号楼")

_COMPOUND_MULTI = "小区|花园|新村|公寓|大厦|家园|广场|社区|山庄|公馆|宿舍"
_COMPOUND_SINGLE = "苑院里城村"
# One name character: CJK, not a stop character, and never the start of "小区" ("小区后院").
_COMPOUND_BODY = rf"(?:(?!小区)(?![{_STOP_CLASS}])[{_CJK}])"
# A name needs one character before a two-character suffix ("某小区") and two before a
# one-character suffix ("广兴里", but not "后院"/"家里"). The first two-character suffix in the
# run wins over an earlier one-character one ("万科城市花园"): the multi alternative is tried
# in full first. A phase ("海信花园二期") and a trailing 小区 ("幸福村小区") stay with the name.
_COMPOUND_RE = re.compile(
    rf"(?!{_COMPOUND_MULTI})"
    rf"(?:{_COMPOUND_BODY}{{1,14}}?(?:{_COMPOUND_MULTI})"
    rf"|{_COMPOUND_BODY}{{2,14}}?[{_COMPOUND_SINGLE}])"
    r"(?:[0-9一二三四五六七八九十]+期)?(?:小区)?"
)
_FIELDS = (
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


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


# --------------------------------------------------------------------------------------------
# Known names: one trie-shaped regex per name set, built once and cached
# --------------------------------------------------------------------------------------------


def _trie_regex(words: Iterable[str]) -> str:
    """A regex matching any word, longest first at each position, without 300-way alternation.

    A flat "a|b|c" alternation makes the regex engine try every name at every position; the trie
    shares prefixes so each position costs about one branch per distinct next character.
    """
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        children = [re.escape(ch) + build(sub) for ch, sub in sorted(node.items()) if ch]
        if not children:
            return ""
        body = children[0] if len(children) == 1 else "(?:" + "|".join(children) + ")"
        if "" in node:
            # Greedy optional: the longer name is tried first, the shorter one on backtrack.
            body = "(?:" + body + ")?"
        return body

    return build(trie)


@functools.lru_cache(maxsize=64)
def _names_matcher(names: frozenset[str]) -> re.Pattern[str] | None:
    cleaned = {normalize(name) for name in names if isinstance(name, str)}
    cleaned.discard("")
    if not cleaned:
        return None
    return re.compile(_trie_regex(cleaned))


def _matcher_for(names: Collection[str] | None) -> re.Pattern[str] | None:
    if not names:
        return None
    if isinstance(names, str):  # a single name, not a collection of characters
        names = (names,)
    # Callers normally pass the same frozenset every time; its hash is cached, so the lru_cache
    # lookup is cheap. Other collections are converted (O(n)) on each call.
    key = names if isinstance(names, frozenset) else frozenset(names)
    return _names_matcher(key)


# --------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------


def parse_address(
    text: str,
    *,
    known_roads: Collection[str] = (),
    known_compounds: Collection[str] = (),
) -> ParsedAddress:
    """Split ``text`` into address components; never raises.

    ``known_roads`` / ``known_compounds`` (ideally frozensets reused across calls) let the parser
    recognise names its patterns cannot (a compound without a typical suffix, a road in the
    middle of a sentence). Without a match among them the pattern rules still apply.
    """
    raw = text if isinstance(text, str) else ("" if text is None else str(text))
    try:
        return _parse(raw, _matcher_for(known_roads), _matcher_for(known_compounds))
    except Exception:  # the contract is "never raise": degrade to "nothing parsed"
        try:
            normalized = normalize(raw)
        except Exception:
            normalized = ""
        return ParsedAddress(raw=raw, normalized=normalized, rest=normalized)


def _parse(
    raw: str, roads_re: re.Pattern[str] | None, compounds_re: re.Pattern[str] | None
) -> ParsedAddress:
    s = normalize(raw)
    n = len(s)
    fields: dict[str, str] = dict.fromkeys(_FIELDS, "")
    rest: list[str] = []

    pos = _strip_admin(s, fields, rest)

    # Community only counts when a road or house number follows it; otherwise the same text is
    # read again below, where it may turn out to be a compound ("贮水山社区3号楼").
    community_end = -1
    m = _COMMUNITY_RE.match(s, pos)
    if m and m.end() < n:
        community_end = m.end()

    kc = road = None
    if community_end > 0:
        kc = _find_known_compound(s, community_end, compounds_re)
        road = _find_road(s, community_end, roads_re, kc)
        if road is not None or _SEGMENT_NUMBER_RE.search(s, community_end):
            fields["community"] = _COMMUNITY_TAIL_RE.sub("", s[pos:community_end])
            pos = community_end
        else:
            community_end = -1
    if community_end < 0:
        kc = _find_known_compound(s, pos, compounds_re)
        road = _find_road(s, pos, roads_re, kc)

    # Fixed spans (known compound, road + number) split the text into gaps that are read left
    # to right; each gap starts "anchored", i.e. a compound may begin right there.
    spans: list[tuple[int, int]] = []
    if kc is not None:
        fields["compound"] = s[kc[0] : kc[1]]
        spans.append(kc)
    if road is not None:
        rs, re_ = road
        fields["road"] = s[rs:re_]
        limit = kc[0] if kc is not None and kc[0] >= re_ else n
        nm = _NUMBER_AFTER_ROAD_RE.match(s, re_, limit)
        if nm:
            fields["number"] = _canonical_number(nm, "a", "b", "c", "d", "e")
            re_ = nm.end()
        spans.append((rs, re_))
    spans.sort()

    cursor = pos
    for start, end in spans:
        _parse_gap(s, cursor, start, fields, rest)
        cursor = end
    _parse_gap(s, cursor, n, fields, rest)

    return ParsedAddress(raw=raw, normalized=s, rest="".join(rest), **fields)


def _strip_admin(s: str, fields: dict[str, str], rest: list[str]) -> int:
    """Record 中国/province/city/district/street office; return where the address proper starts."""
    m = _ADMIN_RE.match(s)
    if not m.group(0):
        found = _ADMIN_SEARCH_RE.search(s)
        # "您好我住在市北区..." but not "伊春路168号青岛市..." (the prefix would swallow the road).
        if found and not _ADDRESSY_RE.search(s, 0, found.start()):
            rest.append(s[: found.start()])
            m = _ADMIN_RE.match(s, found.start())
    for key in ("province", "city", "district"):
        value = m.group(key)
        if value:
            fields[key] = _CANON_ADMIN.get(value, value)
    pos = m.end()
    so = _STREET_OFFICE_RE.match(s, pos)
    if so:
        fields["street_office"] = so.group(0).removesuffix("办事处")
        pos = so.end()
    return pos


def _find_known_compound(
    s: str, start: int, compounds_re: re.Pattern[str] | None
) -> tuple[int, int] | None:
    if compounds_re is None:
        return None
    best: tuple[int, int] | None = None
    for m in compounds_re.finditer(s, start):
        if best is None or m.end() - m.start() > best[1] - best[0]:
            best = (m.start(), m.end())
    return best


def _find_road(
    s: str, start: int, roads_re: re.Pattern[str] | None, blocked: tuple[int, int] | None
) -> tuple[int, int] | None:
    """Best road span in s[start:], avoiding the known-compound span ``blocked``."""

    def overlaps(a: int, b: int) -> bool:
        return blocked is not None and a < blocked[1] and blocked[0] < b

    n = len(s)
    if roads_re is not None:
        best_key: tuple[int, int, int] | None = None
        best: tuple[int, int] | None = None
        for m in roads_re.finditer(s, start):
            a, b = m.start(), m.end()
            if a == b or overlaps(a, b):
                continue
            # A road followed by a house number beats a longer one that is not; then the
            # longest; then the first.
            key = (0 if b < n and "0" <= s[b] <= "9" else 1, a - b, a)
            if best_key is None or key < best_key:
                best_key, best = key, (a, b)
        if best is not None:
            return best
    return _find_road_by_pattern(s, start, blocked)


def _find_road_by_pattern(
    s: str, start: int, blocked: tuple[int, int] | None
) -> tuple[int, int] | None:
    n = len(s)
    floor_ = start
    best_key: tuple[int, int] | None = None
    best: tuple[int, int] | None = None
    for m in _ROAD_SUFFIX_RE.finditer(s, start):
        sfx_start, end = m.start(), m.end()
        if blocked is not None and sfx_start < blocked[1] and blocked[0] < end:
            continue
        suffix = m.group(0)
        if end < n and "0" <= s[end] <= "9":
            rank = 0
        elif suffix in _NUMBER_ONLY_SUFFIXES:
            continue
        elif end == n:
            rank = 1
        elif suffix in _MIDTEXT_SUFFIXES:
            rank = 2
        else:
            continue
        if best_key is not None and rank >= best_key[0]:
            continue  # an earlier candidate is at least as good
        lower = max(floor_, sfx_start - _ROAD_BODY_MAX_SCAN)
        if blocked is not None and blocked[1] <= sfx_start:
            lower = max(lower, blocked[1])
        i = sfx_start
        while i > lower and _is_cjk(s[i - 1]) and s[i - 1] not in _ROAD_BODY_EXCLUDED:
            i -= 1
        body = _trim_road_body(s[i:sfx_start])
        if len(body) < 2 or body + suffix in _ROAD_STOPWORDS:
            continue
        best_key, best = (rank, sfx_start), (sfx_start - len(body), end)
        if rank == 0:
            break
    return best


def _trim_road_body(body: str) -> str:
    """Drop leading sentence text from the characters before a road suffix."""
    body = _after_last(_ROAD_STRONG_MARKERS, body)
    if len(body) > 4:
        body = _after_last(_ROAD_WEAK_MARKERS, body)
    if len(body) > 6:
        # No marker at all: keep a two-character name plus its numeral/direction tail
        # ("...延安三" → "延安三"), the commonest shape of road names here.
        tail = len(body)
        while tail > 0 and body[tail - 1] in _ROAD_NAME_TAIL:
            tail -= 1
        body = body[max(0, tail - 2) :]
    return body


def _after_last(pattern: re.Pattern[str], text: str) -> str:
    """The part of ``text`` after the last match of ``pattern`` (all of it when none)."""
    cut = 0
    for m in pattern.finditer(text):
        cut = m.end()
    return text[cut:]


def _canonical_number(m: re.Match[str], *suffix_groups: str) -> str:
    number = m.group("n")
    for name in suffix_groups:
        value = m.group(name)
        if value:
            return number + ("之" + value if value.isdigit() else value)
    return number


def _match_compound(s: str, pos: int, end: int) -> int:
    """End of a compound name starting at ``pos`` (pattern rules), or -1."""
    m = _COMPOUND_RE.match(s, pos, end)
    return m.end() if m else -1


def _parse_gap(s: str, a: int, b: int, f: dict[str, str], rest: list[str]) -> None:
    """Read s[a:b] left to right into ``f``; unreadable characters go to ``rest``."""
    pos = a
    anchored = True
    n = len(s)
    while pos < b:
        ch = s[pos]
        if ch in _SEGMENT_START:
            m = _SEGMENT_RE.match(s, pos, b)
            if m:
                if _apply_segment(m, s, n, f):
                    anchored = True
                else:
                    rest.append(m.group(0))
                    anchored = False
                pos = m.end()
                continue
        if anchored and not f["compound"]:
            e = _match_compound(s, pos, b)
            if e > 0:
                f["compound"] = s[pos:e]
                pos = e
                continue
        rest.append(ch)
        # A compound may start right after a word boundary we can see ("家住紫云台小区").
        anchored = ch in _STOP_CHARS
        pos += 1


def _apply_segment(m: re.Match[str], s: str, n: int, f: dict[str, str]) -> bool:
    """Store one building/unit/floor/room/number token; False if it fits nowhere."""
    kind = m.lastgroup
    end = m.end()
    if kind == "K_bru":
        if f["building"] or f["unit"] or f["room"]:
            return False
        f["building"], f["unit"], f["room"] = m.group("b1"), m.group("u1"), m.group("r1")
        return True
    if kind == "K_bld":
        if f["building"]:
            return False
        f["building"] = m.group("bld").upper()
        return True
    if kind == "K_unit":
        return _set_once(f, "unit", m.group("unit"))
    if kind == "K_floor":
        return _set_once(f, "floor", m.group("flr"))
    if kind == "K_lou":
        # "N楼": building N, unless building/unit/room already read, then it is the floor.
        if not (f["building"] or f["unit"] or f["room"]):
            f["building"] = m.group("lou")
            return True
        return _set_once(f, "floor", m.group("lou"))
    if kind == "K_room":
        return _set_once(f, "room", m.group("room"))
    if kind == "K_num":
        number = _canonical_number(m, "na", "nb", "nc", "nd")
        after_month = m.start() > 0 and s[m.start() - 1] == "月"  # "12月7号" is a date
        if after_month:
            return False
        building_like = bool(f["number"]) or (bool(f["compound"]) and not f["road"])
        if not building_like and not f["number"]:
            f["number"] = number
            return True
        if number.isdigit() and not f["building"]:
            f["building"] = number
            return True
        return False
    if kind == "K_pair":
        first, second = m.group("p1"), m.group("p2")
        if f["room"]:
            return False
        if f["building"] and not f["unit"]:
            f["unit"], f["room"] = first, second
            return True
        if not f["building"] and (f["compound"] or f["number"] or f["road"]):
            f["building"], f["room"] = first, second
            return True
        return False
    if kind == "K_bare":
        if f["room"] or (end < n and s[end] in _QUANTITY_CHARS):
            return False
        if f["unit"] or f["building"] or (end == n and (f["number"] or f["compound"])):
            f["room"] = m.group("bare")
            return True
        return False
    return False


def _set_once(f: dict[str, str], key: str, value: str) -> bool:
    if f[key]:
        return False
    f[key] = value
    return True
