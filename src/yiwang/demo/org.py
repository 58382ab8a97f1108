"""The demo district's tree: streets, communities and grids tiling a rectangle near Qingdao,
the roads between them, compounds and buildings, departments, grid teams and the party chain.

The grids are the cells of a jittered lattice, so they tile the district exactly; the lattice
lines are the roads. The source document's places are put where it says they are."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.db import transaction

from yiwang.geo.models import Compound, Road
from yiwang.org.models import (
    Building,
    Department,
    District,
    GridTeamMember,
    PartyCentralHousehold,
    PartyOrg,
    TeamRole,
)
from yiwang.org.services import (
    bump_address_version,
    community_create,
    department_create,
    district_create,
    grid_create,
    street_create,
)

from . import names


@dataclass(frozen=True)
class Scale:
    name: str
    cols: int
    rows: int
    street_cols: int  # streets as a street_cols × street_rows block layout
    street_rows: int
    community_cols: int  # communities per street, as a block layout inside it
    community_rows: int
    width_km: float
    height_km: float
    extra_buildings: int  # standalone doorplates per grid beside its compound
    compound_buildings: tuple[int, int]  # buildings per compound, min and max


SCALES = {
    "small": Scale("small", 10, 4, 3, 2, 1, 2, 3.0, 1.6, 3, (4, 8)),
    # 47 × 20 = 940 grids over 8.6 × 7.0 km ≈ 60 km², ~32 buildings a grid ≈ 30 k.
    "shibei": Scale("shibei", 47, 20, 4, 3, 3, 3, 8.6, 7.0, 10, (14, 30)),
}

LNG0, LAT0 = 120.335, 36.070
H_SEGMENT = 6  # a horizontal lattice line is one named road every 6 cells
V_SEGMENT = 5

STREET_COLORS = [
    "#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2",
    "#db2777", "#65a30d", "#ea580c", "#4f46e5", "#0d9488", "#b91c1c",
]  # fmt: skip


def _split(n: int, k: int) -> list[range]:
    """n items into k near-equal consecutive ranges."""
    bounds = [round(i * n / k) for i in range(k + 1)]
    return [range(bounds[i], bounds[i + 1]) for i in range(k)]


@dataclass
class Plan:
    scale: Scale
    rnd: random.Random
    points: list[list[tuple[float, float]]] = field(default_factory=list)  # [row][col] → lng, lat
    cell_street: dict = field(default_factory=dict)
    cell_community: dict = field(default_factory=dict)
    road_names: dict = field(default_factory=dict)  # ("H", line, seg) / ("V", line, seg) → name
    reserved: dict = field(default_factory=dict)  # road → set of numbers taken by fixed places
    next_number: dict = field(default_factory=dict)


def _lattice(plan: Plan) -> None:
    s, rnd = plan.scale, plan.rnd
    from yiwang.geo.geometry import M_PER_DEG_LAT, m_per_deg_lng

    dx = s.width_km * 1000 / s.cols / m_per_deg_lng(LAT0)
    dy = s.height_km * 1000 / s.rows / M_PER_DEG_LAT
    for r in range(s.rows + 1):
        row = []
        for c in range(s.cols + 1):
            jx = 0 if c in (0, s.cols) else rnd.uniform(-0.22, 0.22) * dx
            jy = 0 if r in (0, s.rows) else rnd.uniform(-0.22, 0.22) * dy
            # Rows count from the north so that row 0 is at the top of the map.
            row.append((round(LNG0 + c * dx + jx, 7), round(LAT0 + (s.rows - r) * dy + jy, 7)))
        plan.points.append(row)


def _cell_polygon(plan: Plan, r: int, c: int) -> dict:
    p = plan.points
    ring = [p[r][c], p[r][c + 1], p[r + 1][c + 1], p[r + 1][c], p[r][c]]
    # GeoJSON wants the outer ring counter-clockwise; rows go south, so reverse.
    ring = [list(pt) for pt in reversed(ring)]
    return {"type": "Polygon", "coordinates": [ring]}


def _point_in_cell(plan: Plan, r: int, c: int) -> tuple[float, float]:
    """A point strictly inside the (convex) cell: bilinear between its corners."""
    p = plan.points
    u, v = plan.rnd.uniform(0.12, 0.88), plan.rnd.uniform(0.12, 0.88)
    a, b, d, e = p[r][c], p[r][c + 1], p[r + 1][c], p[r + 1][c + 1]
    lng = (1 - u) * (1 - v) * a[0] + u * (1 - v) * b[0] + (1 - u) * v * d[0] + u * v * e[0]
    lat = (1 - u) * (1 - v) * a[1] + u * (1 - v) * b[1] + (1 - u) * v * d[1] + u * v * e[1]
    return round(lat, 7), round(lng, 7)


def _cell_roads(plan: Plan, r: int, c: int) -> list[tuple]:
    return [
        ("H", r, c // H_SEGMENT),
        ("H", r + 1, c // H_SEGMENT),
        ("V", c, r // V_SEGMENT),
        ("V", c + 1, r // V_SEGMENT),
    ]


def _road_pool(rnd: random.Random) -> list[str]:
    generated = [stem + suffix for suffix in names.ROAD_SUFFIXES for stem in names.ROAD_STEMS]
    rest = [n for n in names.REAL_ROADS if n not in names.SEED_ROADS]
    rnd.shuffle(generated)
    return rest + generated


def _take_number(plan: Plan, road: str) -> str:
    reserved = plan.reserved.get(road, set())
    n = plan.next_number.get(road, 1)
    while str(n) in reserved:
        n += 1
    plan.next_number[road] = n + plan.rnd.choice((1, 2, 2, 3, 4))
    return str(n)


# The source document's places: (street, community or None, road, number, compound, buildings).
SEED_PLACES = [
    ("合肥路街道", None, "伊春路", "168", "紫云台小区", 6),
    ("阜新路街道", None, "铁山路", "22甲", "", 1),
    ("阜新路街道", None, "铁山路", "22", "铁山花园", 4),
    ("四方街道", "建国村社区", "平安路", "39", "建国新村", 5),
    ("兴隆路街道", "兴德路社区", "九江路", "86", "九江花园", 8),
    ("阜新路街道", None, "人民路", "120", "人民路小区", 5),
    ("即墨路街道", "小港社区", "重庆路", "18", "重庆南村", 3),
    ("即墨路街道", "小港社区", "蚌埠路", "7", "", 1),
    ("辽宁路街道", "贮水山社区", "延安三路", "20", "贮水山小区", 4),
]


@dataclass
class Built:
    district: District
    grids: list = field(default_factory=list)
    streets: list = field(default_factory=list)
    communities: list = field(default_factory=list)
    departments: dict = field(default_factory=dict)
    grid_cell: dict = field(default_factory=dict)  # grid id → (r, c)


def person_name(rnd: random.Random) -> str:
    given = "".join(rnd.choice(names.GIVEN_CHARS) for _ in range(rnd.choice((1, 2, 2))))
    return rnd.choice(names.SURNAMES) + given


def phone(rnd: random.Random) -> str:
    return rnd.choice(("13", "15", "18", "17")) + "".join(
        rnd.choice("0123456789") for _ in range(9)
    )


@transaction.atomic
def build_tree(*, scale: str = "small", seed: int = 20261130, progress=None) -> Built:
    s = SCALES[scale]
    rnd = random.Random(seed)
    plan = Plan(scale=s, rnd=rnd)
    _lattice(plan)

    district = district_create(actor=None, code="370203", name="市北区")
    corners = [
        plan.points[0][0], plan.points[0][s.cols], plan.points[s.rows][s.cols],
        plan.points[s.rows][0], plan.points[0][0],
    ]  # fmt: skip
    district.boundary = {
        "type": "Polygon",
        "coordinates": [[list(p) for p in reversed(corners)]],
    }
    district.save(update_fields=["boundary"])
    built = Built(district=district)

    # Streets and communities as blocks of cells.
    street_names = names.STREETS[: s.street_cols * s.street_rows]
    community_pool = [w + "社区" for w in names.COMMUNITY_WORDS]
    seed_communities = {c for cs in names.SEED_COMMUNITIES.values() for c in cs}
    community_pool = [c for c in community_pool if c not in seed_communities]
    rnd.shuffle(community_pool)
    # Enough names for the district scale: more in the same style, used after the real ones.
    spare = [f"{stem}路社区" for stem in names.ROAD_STEMS if f"{stem}路社区" not in community_pool]
    rnd.shuffle(spare)
    community_pool = spare + community_pool
    k = 0
    for rows in _split(s.rows, s.street_rows):
        for cols in _split(s.cols, s.street_cols):
            name = street_names[k]
            street = street_create(
                actor=None,
                district=district,
                code=f"370203{k + 1:03d}",
                name=name,
                color=STREET_COLORS[k % len(STREET_COLORS)],
            )
            built.streets.append(street)
            wanted = list(names.SEED_COMMUNITIES.get(name, []))
            m = 0
            for crows in _split(len(rows), s.community_rows):
                for ccols in _split(len(cols), s.community_cols):
                    cname = wanted.pop(0) if wanted else community_pool.pop()
                    community = community_create(
                        actor=None, street=street, code=f"{street.code}{m + 1:03d}", name=cname
                    )
                    built.communities.append(community)
                    m += 1
                    for r in crows:
                        for c in ccols:
                            cell = (rows[r], cols[c])
                            plan.cell_street[cell] = street
                            plan.cell_community[cell] = community
            k += 1

    # Grids, numbered within their community.
    per_community: dict[int, int] = {}
    cell_grid = {}
    for r in range(s.rows):
        for c in range(s.cols):
            community = plan.cell_community[(r, c)]
            n = per_community.get(community.id, 0) + 1
            per_community[community.id] = n
            grid = grid_create(
                actor=None,
                community=community,
                code=f"{community.code}{n:02d}",
                name=f"{community.name.removesuffix('社区')}第{names.chinese_ordinal(n)}网格",
                boundary=_cell_polygon(plan, r, c),
            )
            cell_grid[(r, c)] = grid
            built.grids.append(grid)
            built.grid_cell[grid.id] = (r, c)
        if progress:
            progress(len(built.grids), s.rows * s.cols)

    # Roads: the seed's names on segments beside the places the document puts them.
    fixed: list[tuple] = []
    used_names = set()
    for street_name, community_name, road, number, compound, count in SEED_PLACES:
        cells = [
            cell
            for cell, st in plan.cell_street.items()
            if st.name == street_name
            and (community_name is None or plan.cell_community[cell].name == community_name)
        ]
        if not cells:
            continue
        cells.sort()
        # The same road name stays on one segment.
        existing = [key for key, name in plan.road_names.items() if name == road]
        cell = None
        if existing:
            cell = next((c for c in cells if existing[0] in _cell_roads(plan, *c)), None)
        if cell is None:
            for candidate in cells[len(cells) // 3 :] + cells:
                free = [k for k in _cell_roads(plan, *candidate) if k not in plan.road_names]
                if free or existing:
                    cell = candidate
                    break
            if not existing:
                key = next(k for k in _cell_roads(plan, *cell) if k not in plan.road_names)
                plan.road_names[key] = road
                used_names.add(road)
        plan.reserved.setdefault(road, set()).add(number)
        fixed.append((cell, road, number, compound, count))

    pool = [n for n in _road_pool(rnd) if n not in used_names]
    keys = [
        ("H", line, seg)
        for line in range(s.rows + 1)
        for seg in range((s.cols - 1) // H_SEGMENT + 1)
    ]
    keys += [
        ("V", line, seg)
        for line in range(s.cols + 1)
        for seg in range((s.rows - 1) // V_SEGMENT + 1)
    ]
    for key in keys:
        if key not in plan.road_names:
            plan.road_names[key] = pool.pop(0)
    for key, name in plan.road_names.items():
        kind = Road.Kind.MAIN if key[1] % 5 == 0 else Road.Kind.SECONDARY
        Road.objects.get_or_create(
            name=name, defaults={"kind": kind, "line": _road_line(plan, key)}
        )
    roads = {r.name: r for r in Road.objects.all()}
    # Back alleys (背街小巷) inside some cells, as in 即墨路街道's daily patrol.
    alley_stems = [w for w in names.COMPOUND_WORDS]
    for i, street in enumerate(built.streets):
        street_cells = sorted(c for c, st in plan.cell_street.items() if st.id == street.id)
        for j in range(min(6, len(street_cells))):
            cell = street_cells[(j * 7) % len(street_cells)]
            name = f"{street.name[:2]}{alley_stems[(i + j) % len(alley_stems)]}里"
            a = _point_in_cell(plan, *cell)
            b = _point_in_cell(plan, *cell)
            Road.objects.get_or_create(
                name=name,
                defaults={"kind": Road.Kind.ALLEY, "line": [[a[1], a[0]], [b[1], b[0]]]},
            )

    # Compounds and buildings.
    buildings: list[Building] = []
    compounds: list[tuple] = []
    compound_names: set[str] = set()
    fixed_cells = {}
    for cell, road, number, compound, count in fixed:
        fixed_cells.setdefault(cell, []).append((road, number, compound, count))
    for r in range(s.rows):
        for c in range(s.cols):
            grid = cell_grid[(r, c)]
            cell_road_names = [plan.road_names[k] for k in _cell_roads(plan, r, c)]
            places = list(fixed_cells.get((r, c), []))
            road = rnd.choice(cell_road_names)
            word = rnd.choice(names.COMPOUND_WORDS)
            cname = f"{road.removesuffix('路')[:2]}{word}{rnd.choice(names.COMPOUND_SUFFIXES)}"
            while cname in compound_names:
                cname = f"{road[:2]}{rnd.choice(names.COMPOUND_WORDS)}{rnd.choice(names.COMPOUND_SUFFIXES)}"
                if cname in compound_names:
                    cname = f"{cname[:-2]}{rnd.randint(2, 9)}{cname[-2:]}"
            places.append(
                (road, _take_number(plan, road), cname, rnd.randint(*s.compound_buildings))
            )
            for _ in range(s.extra_buildings):
                road = rnd.choice(cell_road_names)
                number = _take_number(plan, road)
                if rnd.random() < 0.08:
                    number += rnd.choice(("甲", "乙", "-1", "-2"))
                places.append((road, number, "", 1))
            for road, number, compound, count in places:
                if compound:
                    compound_names.add(compound)
                    compounds.append((compound, road, number, grid))
                for b in range(count):
                    lat, lng = _point_in_cell(plan, r, c)
                    buildings.append(
                        Building(
                            grid=grid,
                            road=road,
                            number=number,
                            compound=compound,
                            building_no=str(b + 1) if compound else "",
                            kind=Building.Kind.BUILDING if compound else Building.Kind.COURTYARD,
                            lat=lat,
                            lng=lng,
                            floors=rnd.choice((5, 6, 6, 7, 11, 18, 24, 33))
                            if compound
                            else rnd.choice((2, 3, 4)),
                            units=rnd.choice((1, 2, 3, 4)) if compound else 1,
                        )
                    )
    Building.objects.bulk_create(buildings, batch_size=2000)
    Compound.objects.bulk_create(
        [Compound(name=n, road=roads[road], number=num, grid=g) for n, road, num, g in compounds],
        batch_size=2000,
    )
    bump_address_version(district.id)

    _departments(built, rnd)
    _teams_and_party(built, rnd)
    return built


def _road_line(plan: Plan, key: tuple) -> list:
    kind, line, seg = key
    if kind == "H":
        cols = range(seg * H_SEGMENT, min((seg + 1) * H_SEGMENT, plan.scale.cols) + 1)
        pts = [plan.points[line][c] for c in cols]
    else:
        rows = range(seg * V_SEGMENT, min((seg + 1) * V_SEGMENT, plan.scale.rows) + 1)
        pts = [plan.points[r][line] for r in rows]
    return [list(p) for p in pts]


def _departments(built: Built, rnd: random.Random) -> None:
    for code, name, short in names.PILOT_DEPARTMENTS:
        built.departments[code] = department_create(
            actor=None, code=code, name=name, short_name=short, is_pilot=True
        )
    for street in built.streets:
        for suffix, label, short in (
            ("ZF", "综合行政执法中队", "执法中队"),
            ("CB", "城市管理办公室", "城管办"),
        ):
            built.departments[f"{street.code}{suffix}"] = department_create(
                actor=None,
                code=f"{street.code}{suffix}",
                name=f"{street.name.removesuffix('街道')}街道{label}",
                short_name=short,
                kind=Department.Kind.STREET_UNIT,
                street=street,
            )


def _teams_and_party(built: Built, rnd: random.Random) -> None:
    pilot = [d for d in built.departments.values() if d.is_pilot]
    police = built.departments["GA"]
    members = []
    for i, grid in enumerate(built.grids):
        members.append(
            GridTeamMember(
                grid=grid, role=TeamRole.GRID_LEADER, name=person_name(rnd), phone=phone(rnd)
            )
        )
        members.append(
            GridTeamMember(
                grid=grid, role=TeamRole.GRID_WORKER, name=person_name(rnd), phone=phone(rnd)
            )
        )
        members.append(
            GridTeamMember(
                grid=grid,
                role=TeamRole.POLICE,
                name=person_name(rnd),
                phone=phone(rnd),
                department=police,
            )
        )
        # 业务网格化: two pilot departments send a member to each grid, in rotation.
        for d in (pilot[i % len(pilot)], pilot[(i + 3) % len(pilot)]):
            if d.code == "GA":
                d = pilot[(i + 5) % len(pilot)]
            members.append(
                GridTeamMember(
                    grid=grid,
                    role=TeamRole.DEPARTMENT_MEMBER,
                    name=person_name(rnd),
                    phone=phone(rnd),
                    department=d,
                )
            )
        for _ in range(rnd.choice((1, 2, 3))):
            members.append(
                GridTeamMember(
                    grid=grid, role=TeamRole.VOLUNTEER, name=person_name(rnd), phone=phone(rnd)
                )
            )
        members.append(
            GridTeamMember(
                grid=grid, role=TeamRole.PARTY_HOUSEHOLD, name=person_name(rnd), phone=phone(rnd)
            )
        )
    GridTeamMember.objects.bulk_create(members, batch_size=2000)

    # 楼院党小组: one per compound, under its grid's party branch, with a 党员中心户.
    branches = {p.grid_id: p for p in PartyOrg.objects.filter(level=PartyOrg.Level.GRID_BRANCH)}
    groups = []
    group_buildings: list[list[Building]] = []
    by_compound: dict[tuple, list[Building]] = {}
    for b in Building.objects.exclude(compound="").order_by("id"):
        by_compound.setdefault((b.grid_id, b.compound), []).append(b)
    for (grid_id, compound), blds in by_compound.items():
        groups.append(
            PartyOrg(
                level=PartyOrg.Level.BUILDING_GROUP,
                name=f"{compound}党小组",
                parent=branches[grid_id],
                secretary=person_name(rnd),
            )
        )
        group_buildings.append(blds)
    PartyOrg.objects.bulk_create(groups, batch_size=2000)
    through = PartyOrg.buildings.through
    links, households = [], []
    for group, blds in zip(groups, group_buildings, strict=True):
        links.extend(through(partyorg_id=group.id, building_id=b.id) for b in blds)
        home = blds[0]
        floors = home.floors or 6
        households.append(
            PartyCentralHousehold(
                party_group=group,
                building=home,
                unit="1",
                room=f"{rnd.randint(1, floors)}0{rnd.randint(1, 2)}",
                head_name=person_name(rnd),
                looks_after=[f"{u}单元{f}0{d}" for u in (1, 2) for f in (1, 2, 3) for d in (1, 2)][
                    : rnd.randint(4, 10)
                ],
            )
        )
    through.objects.bulk_create(links, batch_size=5000)
    PartyCentralHousehold.objects.bulk_create(households, batch_size=2000)
