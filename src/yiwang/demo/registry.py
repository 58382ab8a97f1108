"""The demo district's registry: houses, households and residents in every building, places
and organisations in every grid. Deterministic for a seed.

Community scale (the default "small" tree) gets ~10 k residents; "shibei" gets 1.1 M residents
in ~450 k households. At that size the ORM's per-object cost dominates, so rows are written as
plain tuples with executemany, ids assigned here so foreign keys need no read-back."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from contextlib import contextmanager

from django.db import connection, transaction
from django.utils import timezone

from yiwang.org.models import Building
from yiwang.registry.idcard import credit_check_char
from yiwang.registry.models import House, Household, Organization, Place, Resident, Tag

from . import names
from .org import person_name, phone

TARGETS = {"small": (10_000, 4_100), "shibei": (1_100_000, 450_000)}  # residents, households
CHUNK = 20_000
# Household sizes, mean 59 / 24 ≈ 2.46: 1.1 M people in ~450 k households.
SIZES = (1,) * 5 + (2,) * 8 + (3,) * 7 + (4,) * 3 + (5,)
VACANT = 0.15
ETHNIC = ["汉族"] * 97 + ["回族", "满族", "朝鲜族"]
PREFIX = "358739"  # second digit of a mobile number
REGIONS = ["370203"] * 6 + ["370202", "370212", "370281", "371302", "370811", "230103"]


def _ordered_columns(model, fields):
    return [model._meta.get_field(f).column for f in fields]


class _Writer:
    """executemany in chunks; the ids are ours, continuing after the table's largest."""

    def __init__(self, model, fields):
        self.model = model
        self.fields = fields
        cols = ", ".join(connection.ops.quote_name(c) for c in _ordered_columns(model, fields))
        table = connection.ops.quote_name(model._meta.db_table)
        marks = ", ".join(["%s"] * len(fields))
        self.sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"  # noqa: S608 (names from _meta)
        self.rows: list[tuple] = []
        self.next_id = (model.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        self.count = 0

    def new_id(self) -> int:
        i = self.next_id
        self.next_id += 1
        return i

    def add(self, row: tuple) -> None:
        self.rows.append(row)

    def flush(self) -> None:
        if self.rows:
            with connection.cursor() as cur:
                cur.executemany(self.sql, self.rows)
            self.count += len(self.rows)
            self.rows = []


_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def _id_number(region: str, birth: str, male: bool, counters: dict) -> str:
    """A valid, unique ID number. The weighted sum of region + birth date is computed once per
    pair; only the sequence digits are added per person."""
    key = region + birth
    entry = counters.get(key)
    if entry is None:
        entry = counters[key] = [0, sum(int(c) * w for c, w in zip(key, _W, strict=False))]
    n = entry[0]
    entry[0] = n + 1
    seq = 100 + 2 * n + (1 if male else 0)  # odd = male; unique per region and birth date
    if seq > 999:
        return ""
    total = entry[1] + (seq // 100) * _W[14] + (seq // 10 % 10) * _W[15] + (seq % 10) * _W[16]
    return f"{key}{seq}{_CHECK[total % 11]}"


def _credit_code(rnd, n: int) -> str:
    # The running number n keeps codes unique; the random tail makes them look issued.
    body = f"913702{n:06d}{rnd.randrange(10**5):05d}"
    return body + credit_check_char(body)


def _ensure_tags() -> None:
    """The managed tag list is seeded by a migration; a flushed test database has lost it."""
    from importlib import import_module

    from django.apps import apps

    if not Tag.objects.exists():
        import_module("yiwang.registry.migrations.0002_seed_tags").seed(apps, None)


def build_registry(built, *, scale: str = "small", seed: int = 20261130, progress=None) -> dict:
    """Generates the registry for the buildings of `built`'s district; returns counts."""
    residents_target, households_target = TARGETS.get(scale, TARGETS["small"])
    rnd = random.Random(seed + 7)
    started = time.monotonic()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    today = timezone.localdate()
    _ensure_tags()
    tags = dict(Tag.objects.values_list("name", "id"))
    buildings = list(
        Building.objects.order_by("id").values_list(
            "id", "grid_id", "road", "number", "compound", "building_no", "lat", "lng", "floors",
            "units",
        )
    )  # fmt: skip
    if not buildings:
        return {}
    weights = [
        (fl or 6) * (un or 2) * 2 if compound else 3
        for _i, _g, _r, _n, compound, _b, _la, _ln, fl, un in buildings
    ]
    # Some houses stand empty: more houses than households.
    scale_factor = households_target / (1 - VACANT) / sum(weights)

    element = ["address", "building_id", "grid_id", "lat", "lng", "address_status",
               "address_message", "created_at", "updated_at"]  # fmt: skip
    houses = _Writer(House, ["id", *element, "unit", "room", "area_m2", "use", "occupancy",
                             "owner_name", "tenant_name"])  # fmt: skip
    households = _Writer(Household, ["id", *element, "number", "head_id", "house_id"])
    residents = _Writer(
        Resident,
        ["id", *element, "name", "gender", "birth_date", "id_number", "phones", "household_id",
         "relation_to_head", "house_id", "residence_type", "hukou_address", "ethnic_group",
         "is_party_member", "workplace", "notes", "sources", "field_sources"],
    )  # fmt: skip
    resident_tags = _Writer(Resident.tags.through, ["resident_id", "tag_id"])
    counters: dict = {}
    # Pools drawn by index: a million rnd.choice calls per field would dominate the run.
    name_pool = [person_name(rnd) for _ in range(20_000)]
    given_pool = [n[1:] for n in name_pool]
    ordinal_today = today.toordinal()
    date_cache: dict[int, str] = {}
    sources = json.dumps(["demo"])
    empty = "{}"
    done = reported = 0
    hh_number = 0
    writers = (houses, households, residents, resident_tags)
    random_ = rnd.random

    def flush():
        # One transaction per chunk: a household's head is in the same chunk as the household,
        # and a huge single transaction would swell SQLite's WAL file to gigabytes.
        with transaction.atomic():
            for w in writers:
                w.flush()

    with _indexes_deferred([House, Household, Resident, Resident.tags.through]):
        for (bid, gid, road, number, compound, bno, lat, lng, floors, units), weight in zip(
            buildings, weights, strict=True
        ):
            if done >= residents_target:
                break
            base = f"{road}{number}号{compound}" + (f"{bno}号楼" if bno else "")
            n_households = max(1, round(weight * scale_factor * rnd.uniform(0.8, 1.2)))
            floors, units = floors or 3, units or 1
            for k in range(n_households):
                unit = str(k % units + 1) if compound else ""
                floor = (k // units) // 2 % floors + 1
                room = f"{floor}{(k // units) % 2 + 1:02d}"
                if k >= floors * units * 2:
                    room = f"{room}-{k // (floors * units * 2)}"
                address = f"{base}{unit}单元{room}室" if unit else f"{base}{room}室"
                house_id = houses.new_id()
                occupancy = "vacant" if rnd.random() < VACANT else (
                    "tenant" if rnd.random() < 0.25 else "owner")  # fmt: skip
                houses.add((house_id, address, bid, gid, lat, lng, "resolved", "", now, now, unit,
                            room, round(rnd.uniform(35, 140), 1), "residential", occupancy,
                            "", ""))  # fmt: skip
                if occupancy == "vacant":
                    continue
                hh_number += 1
                household_id = households.new_id()
                size = rnd.choice(SIZES)
                head_id = residents.next_id
                households.add((household_id, address, bid, gid, lat, lng, "resolved", "", now,
                                now, f"HH{hh_number:07d}", head_id, house_id))  # fmt: skip
                surname = None
                head_age = 25 + int(random_() * 68)
                for m in range(size):
                    if m == 0:
                        age, relation = head_age, "户主"
                    elif m == 1:
                        age, relation = max(20, head_age - 5 + int(random_() * 11)), "配偶"
                    else:
                        age, relation = max(0, head_age - 22 - int(random_() * 14)), "子女"
                    male = random_() < 0.5
                    if surname and relation == "子女":
                        name = surname + given_pool[int(random_() * 20_000)]
                    else:
                        name = name_pool[int(random_() * 20_000)]
                    surname = surname or name[0]
                    day = ordinal_today - age * 365 - int(random_() * 365)
                    birth = date_cache.get(day)
                    if birth is None:
                        birth = date_cache[day] = dt.date.fromordinal(day).strftime("%Y%m%d")
                    region = REGIONS[int(random_() * len(REGIONS))]
                    idn = _id_number(region, birth, male, counters)
                    rid = residents.next_id
                    residents.next_id += 1
                    rtype = "floating" if occupancy == "tenant" and random_() < 0.6 else (
                        "registered" if random_() < 0.75 else "permanent")  # fmt: skip
                    if age >= 16:
                        phones = f'["1{PREFIX[int(random_() * 6)]}{int(random_() * 1e9):09d}"]'
                    else:
                        phones = "[]"
                    residents.rows.append(
                        (rid, address, bid, gid, lat, lng, "resolved", "", now, now,
                         name, "M" if male else "F", f"{birth[:4]}-{birth[4:6]}-{birth[6:]}", idn,
                         phones, household_id, relation, house_id, rtype, "",
                         ETHNIC[int(random_() * 100)], random_() < 0.08, "", "", sources, empty)
                    )  # fmt: skip
                    if age >= 80:
                        resident_tags.add((rid, tags["高龄"]))
                    if age >= 70 and size == 1:
                        resident_tags.add((rid, tags["独居老人"]))
                    if random_() < 0.02:
                        resident_tags.add((rid, tags[rnd.choice(("残疾", "低保", "优抚对象"))]))
                    if 0 < age < 16 and random_() < 0.02:
                        resident_tags.add((rid, tags["留守儿童"]))
                    done += 1
            if len(residents.rows) >= CHUNK:
                flush()
            if progress and done - reported >= 10_000:
                reported = done
                progress(done, residents_target)
        # Households reference their head, who is written after them: flush residents last so
        # every foreign key points at a row by the end of the transaction.
        flush()
    with transaction.atomic():
        _places_and_orgs(rnd, now)
        _reset_sequences()
    if progress:
        progress(done, done)
    return {
        "houses": houses.count,
        "households": households.count,
        "residents": residents.count,
        "seconds": round(time.monotonic() - started, 1),
    }


def _places_and_orgs(rnd, now) -> None:
    from yiwang.org.models import Grid

    places, orgs = [], []
    n = 0
    for grid in Grid.objects.order_by("id").prefetch_related("buildings"):
        bs = list(grid.buildings.all()[:12])
        if not bs:
            continue
        for k in range(3):
            b = bs[k % len(bs)]
            places.append(Place(kind=Place.Kind.SHOP, name=f"{b.road}{rnd.choice(('便民超市', '理发店', '早餐店', '药店', '五金店'))}",
                                address=b.address, building_id=b.id, grid_id=grid.id, lat=b.lat,
                                lng=b.lng, address_status="resolved"))  # fmt: skip
        if grid.id % 9 == 0:
            b = bs[0]
            places.append(Place(kind=rnd.choice((Place.Kind.FARMERS_MARKET, Place.Kind.SMALL_COMMODITY_MARKET,
                                                 Place.Kind.SCHOOL, Place.Kind.PARK)),
                                name=f"{b.road.removesuffix('路')}{rnd.choice(('市场', '小学', '公园'))}",
                                address=b.address, building_id=b.id, grid_id=grid.id, lat=b.lat,
                                lng=b.lng, address_status="resolved"))  # fmt: skip
        for kind, label in ((Organization.Kind.ENTERPRISE, "商贸有限公司"),
                            (Organization.Kind.PROPERTY_COMPANY, "物业服务有限公司")):  # fmt: skip
            n += 1
            b = bs[n % len(bs)]
            orgs.append(Organization(kind=kind, name=f"青岛{b.road.removesuffix('路')}{n}{label}",
                                     credit_code=_credit_code(rnd, n), address=b.address,
                                     building_id=b.id, grid_id=grid.id, lat=b.lat, lng=b.lng,
                                     address_status="resolved", contact_name=person_name(rnd),
                                     contact_phone=phone(rnd)))  # fmt: skip
        if grid.id % 5 == 0:
            b = bs[0]
            orgs.append(Organization(kind=Organization.Kind.VOLUNTEER_TEAM,
                                     name=f"{grid.name}志愿服务队", address=b.address,
                                     building_id=b.id, grid_id=grid.id, lat=b.lat, lng=b.lng,
                                     address_status="resolved"))  # fmt: skip
    Place.objects.bulk_create(places, batch_size=2000)
    Organization.objects.bulk_create(orgs, batch_size=2000)


@contextmanager
def _indexes_deferred(models):
    """SQLite: drop the secondary indexes of the bulk-loaded tables and build them again at the
    end, from their own stored SQL. Building an index over sorted data once is several times
    faster than updating ten B-trees at random places a million times. (PostgreSQL keeps its
    indexes; its loader is fast enough as it is.)"""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        # Inside a caller's transaction the foreign-key pragma cannot change, and without it
        # dropping the indexes would make every insert slower, not faster.
        yield
        return
    tables = [m._meta.db_table for m in models]
    marks = ", ".join(["%s"] * len(tables))
    # Without the child tables' indexes, every inserted parent row would make SQLite scan the
    # children for deferred foreign-key bookkeeping; checks are off for the load and the whole
    # result is checked once at the end instead. (The pragma is ignored inside a transaction.)
    fk_off = not connection.in_atomic_block
    with connection.cursor() as cur:
        if fk_off:
            cur.execute("PRAGMA foreign_keys = OFF")
            # Demo data is reproducible from its seed: no fsync per chunk while loading.
            cur.execute("PRAGMA synchronous = OFF")
        cur.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "  # noqa: S608
            f"AND tbl_name IN ({marks})",
            tables,
        )
        saved = cur.fetchall()
        for name, _sql in saved:
            cur.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            for _name, sql in saved:
                cur.execute(sql)
            if fk_off:
                cur.execute("PRAGMA synchronous = NORMAL")
                cur.execute("PRAGMA foreign_keys = ON")
                for table in tables:
                    cur.execute(f"PRAGMA foreign_key_check({connection.ops.quote_name(table)})")
                    bad = cur.fetchone()
                    if bad:
                        raise RuntimeError(f"demo registry broke a foreign key: {bad}")


def _reset_sequences() -> None:
    """PostgreSQL sequences do not see ids we assigned ourselves."""
    from django.core.management.color import no_style

    sql = connection.ops.sequence_reset_sql(no_style(), [House, Household, Resident])
    if sql:
        with connection.cursor() as cur:
            for statement in sql:
                cur.execute(statement)


__all__ = ["build_registry", "names"]
