"""Address → building → grid over the standard address base.

The parser (address_parse) splits text into components; this module matches them against the
roads, compounds and buildings, and says how sure it is. Where the base cannot decide between
grids it answers with candidates, never a silent guess."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from functools import cached_property

from django.conf import settings

from yiwang.org.models import Building, District, Grid
from yiwang.org.services import register_index_reset

from .address_parse import ParsedAddress, parse_address
from .models import Compound, Road


class Level:
    BUILDING = "building"  # one building
    DOORPLATE = "doorplate"  # road + number, all its buildings in one grid
    COMPOUND = "compound"  # a compound, all in one grid
    ROAD = "road"  # the road only: candidate grids along it
    NONE = "none"


@dataclass
class Candidate:
    grid_id: int
    grid_code: str
    grid_name: str
    share: float  # the part of the matched buildings that lie in this grid


@dataclass
class Resolution:
    query: str
    level: str
    confidence: float
    message: str
    parsed: ParsedAddress
    grid_id: int | None = None
    grid_code: str | None = None
    grid_name: str | None = None
    building_id: int | None = None
    building_address: str | None = None
    lat: float | None = None
    lng: float | None = None
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def resolved(self) -> bool:
        return self.grid_id is not None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["parsed"] = {k: v for k, v in asdict(self.parsed).items() if v}
        data["resolved"] = self.resolved
        return data


@dataclass(frozen=True)
class _B:
    id: int
    grid_id: int
    road: str
    number: str
    compound: str
    building_no: str
    lat: float
    lng: float

    @property
    def address(self) -> str:
        text = f"{self.road}{self.number}号{self.compound}"
        return text + (f"{self.building_no}号楼" if self.building_no else "")


_SUFFIX = re.compile(r"(甲|乙|丙|丁|-\d+|之\d+)$")


class AddressIndex:
    def __init__(self, key):
        self.key = key
        self.grids: dict[int, tuple[str, str, str]] = {
            g[0]: (g[1], g[2], g[3])
            for g in Grid.objects.values_list("id", "code", "name", "street__name")
        }
        self.road_alias: dict[str, str] = {}
        for name, aliases in Road.objects.values_list("name", "aliases"):
            self.road_alias[name] = name
            for alias in aliases or []:
                self.road_alias.setdefault(alias, name)
        self.compound_alias: dict[str, str] = {}
        for name, aliases in Compound.objects.values_list("name", "aliases"):
            self.compound_alias[name] = name
            for alias in aliases or []:
                self.compound_alias.setdefault(alias, name)
        self.by_doorplate: dict[tuple[str, str], list[_B]] = defaultdict(list)
        self.by_compound: dict[str, list[_B]] = defaultdict(list)
        self.by_road: dict[str, Counter] = defaultdict(Counter)
        rows = Building.objects.values_list(
            "id", "grid_id", "road", "number", "compound", "building_no", "lat", "lng"
        ).iterator(chunk_size=5000)
        for row in rows:
            b = _B(*row)
            self.road_alias.setdefault(b.road, b.road)
            self.by_doorplate[(b.road, b.number)].append(b)
            if b.compound:
                self.compound_alias.setdefault(b.compound, b.compound)
                self.by_compound[b.compound].append(b)
            self.by_road[b.road][b.grid_id] += 1
        self.known_roads = frozenset(self.road_alias)
        self.known_compounds = frozenset(self.compound_alias)

    @cached_property
    def by_standard_address(self) -> dict[str, _B]:
        """Each building by its standard address (`_B.address`), the text the address base
        writes for it, which needs no parsing; a text two buildings share names neither."""
        out: dict[str, _B] = {}
        repeated = set()
        for bucket in self.by_doorplate.values():
            for b in bucket:
                text = b.address
                if text in out:
                    repeated.add(text)
                out[text] = b
        for text in repeated:
            del out[text]
        return out

    # -- answers -------------------------------------------------------------------------
    def _grid_fields(self, grid_id: int) -> dict:
        code, name, _street = self.grids[grid_id]
        return {"grid_id": grid_id, "grid_code": code, "grid_name": name}

    def _candidates(self, counter: Counter) -> list[Candidate]:
        total = sum(counter.values()) or 1
        return [
            Candidate(gid, self.grids[gid][0], self.grids[gid][1], round(n / total, 3))
            for gid, n in counter.most_common(10)
            if gid in self.grids
        ]

    def _one_building(self, query, parsed, b: _B, confidence, message) -> Resolution:
        return Resolution(
            query=query,
            level=Level.BUILDING,
            confidence=confidence,
            message=message,
            parsed=parsed,
            building_id=b.id,
            building_address=b.address,
            lat=b.lat,
            lng=b.lng,
            **self._grid_fields(b.grid_id),
        )

    def _group(self, query, parsed, level, buildings: list[_B], confidence, what) -> Resolution:
        """Buildings that share an address: one grid → that grid; several → candidates."""
        counter = Counter(b.grid_id for b in buildings)
        if len(counter) == 1:
            first = buildings[0]
            return Resolution(
                query=query,
                level=level,
                confidence=confidence,
                message=f"已定位到{what}",
                parsed=parsed,
                lat=sum(b.lat for b in buildings) / len(buildings),
                lng=sum(b.lng for b in buildings) / len(buildings),
                building_id=first.id if len(buildings) == 1 else None,
                building_address=first.address if len(buildings) == 1 else None,
                **self._grid_fields(first.grid_id),
            )
        return Resolution(
            query=query,
            level=level,
            confidence=round(confidence * 0.6, 2),
            message=f"{what}跨越 {len(counter)} 个网格,请补充楼号以确定网格",
            parsed=parsed,
            candidates=self._candidates(counter),
        )

    def resolve(self, text: str) -> Resolution:
        parsed = parse_address(
            text or "", known_roads=self.known_roads, known_compounds=self.known_compounds
        )
        road = self.road_alias.get(parsed.road, parsed.road)
        compound = self.compound_alias.get(parsed.compound, parsed.compound)
        street_ok = True
        result = self._resolve(text, parsed, road, compound)
        if parsed.street_office and result.grid_id is not None:
            street_ok = self.grids[result.grid_id][2] == parsed.street_office
            if not street_ok:
                result.confidence = round(result.confidence * 0.5, 2)
                result.message += f";但该地址不属于{parsed.street_office},请核对"
        return result

    def _resolve(self, text, parsed, road, compound) -> Resolution:
        building_no = parsed.building
        if road and parsed.number:
            bucket = self.by_doorplate.get((road, parsed.number))
            approx = False
            if not bucket:
                base = _SUFFIX.sub("", parsed.number)
                if base != parsed.number:
                    bucket = self.by_doorplate.get((road, base))
                    approx = bool(bucket)
            if bucket:
                doorplate = f"{road}{parsed.number}号"
                if approx:
                    doorplate = f"{road}{_SUFFIX.sub('', parsed.number)}号(近似门牌)"
                factor = 0.8 if approx else 1.0
                note = f";门牌 {parsed.number} 号不在地址库中,按{doorplate}定位" if approx else ""
                if building_no:
                    exact = [b for b in bucket if b.building_no == building_no]
                    if len(exact) == 1:
                        return self._one_building(
                            text, parsed, exact[0], round(1.0 * factor, 2), "已定位到楼栋" + note
                        )
                if len(bucket) == 1:
                    return self._one_building(
                        text, parsed, bucket[0], round(0.95 * factor, 2), "已定位到门牌" + note
                    )
                return self._group(
                    text, parsed, Level.DOORPLATE, bucket, round(0.9 * factor, 2), doorplate
                )
        if compound and compound in self.by_compound:
            members = self.by_compound[compound]
            if building_no:
                exact = [b for b in members if b.building_no == building_no]
                if len(exact) == 1:
                    return self._one_building(text, parsed, exact[0], 0.9, "已按小区和楼号定位")
            return self._group(text, parsed, Level.COMPOUND, members, 0.8, compound)
        if road and road in self.by_road:
            counter = self.by_road[road]
            note = ""
            if parsed.number:
                note = f"门牌 {parsed.number} 号不在地址库中;"
            if len(counter) == 1:
                (gid,) = counter
                return Resolution(
                    query=text,
                    level=Level.ROAD,
                    confidence=0.5,
                    message=f"{note}仅匹配到道路 {road},该路只在一个网格内",
                    parsed=parsed,
                    candidates=self._candidates(counter),
                    **self._grid_fields(gid),
                )
            return Resolution(
                query=text,
                level=Level.ROAD,
                confidence=0.3,
                message=f"{note}仅匹配到道路 {road},它经过 {len(counter)} 个网格,请补充门牌号",
                parsed=parsed,
                candidates=self._candidates(counter),
            )
        if road:
            message = f"地址库中没有道路“{road}”"
        elif (text or "").strip():
            message = "未能识别道路或小区,请按“道路+门牌号”填写,如 伊春路168号"
        else:
            message = "地址为空"
        return Resolution(
            query=text, level=Level.NONE, confidence=0.0, message=message, parsed=parsed
        )


_lock = threading.Lock()
_state: dict = {"index": None, "checked": 0.0}


def reset() -> None:
    with _lock:
        _state["index"] = None
        _state["checked"] = 0.0


register_index_reset(reset)


def address_index() -> AddressIndex:
    now = time.monotonic()
    index = _state["index"]
    if index is not None and now - _state["checked"] < settings.YIWANG_GRID_INDEX_CHECK_SECONDS:
        return index
    key = (
        District.objects.order_by("id").values_list("id", "grid_version", "address_version").first()
    )
    if index is not None and index.key == key:
        _state["checked"] = now
        return index
    with _lock:
        index = AddressIndex(key)
        _state["index"] = index
        _state["checked"] = time.monotonic()
    return index


def resolve_address(text: str) -> Resolution:
    """Resolves free text to a building and grid, with a confidence and a message in Chinese."""
    return address_index().resolve(text)
