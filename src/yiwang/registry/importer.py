"""Residents from spreadsheets (台账): xlsx, csv in UTF-8 / GBK / GB18030.

Columns are found by their Chinese headers (姓名, 性别, 身份证号, 联系电话, 住址, 户籍地 …), with a
mapping saved per source. A dry run by default: every row is checked and matched, and the
report gives per row (row number, column, problem) and the totals a commit would produce.
`commit=True` applies the good rows in batches, one transaction per batch, so a row is either
wholly applied or not at all. Re-import is idempotent: a person is matched by ID number (else
name + birth date + address), updated and never duplicated, and each changed field remembers
which source set it last.

Speed (target ≥ 10 k rows/s, bench/import.py) comes from: validating in Python, with no model
instances; a building's standard address looked up in a dictionary, any other address resolved
once per distinct building part; matching with a few indexed queries per batch (raw SQL: the
ORM takes longer to compile a 5,000-value IN than the database takes to answer it); writing
plain tuples (executemany on SQLite, COPY on PostgreSQL); for large files, opening, reading,
checking and building each new resident's values in a forked process, up to a few batches
ahead, while this one matches and writes; on SQLite, queueing a batch for search in one
statement instead of a trigger call per row (search.bulk), and fewer copies of the write-ahead
log. A large load into a near-empty registry (a district's first) sets the tables' secondary
indexes, per-row foreign-key checks and (on PostgreSQL) search triggers aside and makes them
once at the end (`_bulk_load`); into an empty one, nobody is looked up by ID number and the
houses it makes are remembered instead of asked for (`_Context.began_empty`), until a batch
meets someone added meanwhile. What is left is the reading and checking of each row, and the
database's own work per row; an xlsx sheet is loaded whole before its first row can be
checked."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing as mp
import re
import sqlite3
import threading
import time
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from itertools import compress
from operator import not_
from pathlib import Path
from queue import Empty, Queue

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from yiwang.common.tables import TableError, read_table
from yiwang.org.permissions import IMPORT_REGISTRY, has_permission
from yiwang.search.bulk import insert_triggers_off, queue

from .bulk import (
    copy_row,
    insert_rows,
    row_converter,
    update_rows,
    upkeep_deferred,
    upkeep_ensure,
)
from .idcard import IdError, id_parse, phones_parse
from .models import AccessLog, AddressStatus, House, Household, ImportSource, Resident, Tag
from .privacy import access_log_write
from .selectors import visible_grid_ids

# Files of this size or more are read and checked in a second process (~10 k rows); imports
# of this many rows or more are large (see `_sqlite_for_a_large_import`).
PARALLEL_FROM_BYTES = 1 << 20
PARALLEL_FROM = 20_000
# Cleaned rows travel from the reader process to the writer pickled: plain strings (a birth
# date as ISO text, a status without its enum class) unpickle several times faster than
# date objects and enum members, and are what both databases take.
RESOLVED, NEEDS_ADDRESS = str(AddressStatus.RESOLVED.value), str(AddressStatus.NEEDS_ADDRESS.value)

# The first batch is small, so that the writer starts sooner.
FIRST_BATCH = 1000

# Header → field. The first header listed for a field is the one exports write.
COLUMNS = {
    "姓名": "name",
    "性别": "gender",
    "身份证号": "id_number",
    "身份证号码": "id_number",
    "公民身份号码": "id_number",
    "证件号码": "id_number",
    "出生日期": "birth_date",
    "联系电话": "phones",
    "电话": "phones",
    "手机号": "phones",
    "手机号码": "phones",
    "住址": "address",
    "现住址": "address",
    "居住地址": "address",
    "户籍地": "hukou_address",
    "户籍地址": "hukou_address",
    "人口类型": "residence_type",
    "居住类型": "residence_type",
    "民族": "ethnic_group",
    "政治面貌": "party",
    "是否党员": "party",
    "特殊人群": "tags",
    "关怀标签": "tags",
    "标签": "tags",
    "工作单位": "workplace",
    "备注": "notes",
    "户号": "household_number",
    "与户主关系": "relation_to_head",
}
LABELS = {}
for _header, _field in COLUMNS.items():
    LABELS.setdefault(_field, _header)
FIELDS = set(LABELS)

RESIDENCE = {
    "户籍": "registered", "户籍人口": "registered", "本地户籍": "registered",
    "常住": "permanent", "常住人口": "permanent", "人户分离": "permanent",
    "流动": "floating", "流动人口": "floating", "暂住": "floating", "外来": "floating",
}  # fmt: skip
PARTY_YES = {"党员", "中共党员", "预备党员", "中共预备党员", "是", "Y", "y", "1", "TRUE", "true"}
PARTY_NO = {"群众", "共青团员", "团员", "否", "N", "n", "0", "FALSE", "false", "无", "民主党派"}
GENDERS = {"男": "M", "男性": "M", "M": "M", "女": "F", "女性": "F", "F": "F"}
HEAD_RELATIONS = {"户主", "本人"}
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?: 00:00:00)?$")
_DATE8 = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TAG_SPLIT = re.compile(r"[、,,;;/\s]+")
_ROOM = re.compile(r"^(.*?号楼?)(?:(\d+)单元)?(\d+)(?:室|户)$|^(.*?号楼)(\d+)-(\d+)$")

COMPARE = (
    "name", "gender", "birth_date", "id_number", "address", "building_id", "grid_id", "lat",
    "lng", "address_status", "address_message", "hukou_address", "residence_type",
    "ethnic_group", "is_party_member", "workplace", "notes", "relation_to_head", "house_id",
    "household_id",
)  # fmt: skip


HOUSE_FIELDS = [
    "building", "unit", "room", "grid", "address", "lat", "lng", "address_status",
    "address_message", "created_by", "created_at", "updated_at", "use", "occupancy",
    "owner_name", "tenant_name",
]  # fmt: skip
# The fields a new resident's row can give, in the order its field_sources lists them.
CREATE_GIVEN = [f for f in COMPARE if f not in ("house_id", "household_id")]
# The columns of a new resident that depend on its row alone, with the value for a row that
# does not give one: the reader process makes them (`_insert_values`); the writer adds the
# rest of RESIDENT_COLUMNS, which depend on its lookups and on the batch.
RESIDENT_DEFAULTS = {
    "name": "", "gender": "", "birth_date": None, "id_number": "", "address": "",
    "building_id": None, "grid_id": None, "lat": None, "lng": None,
    "address_status": NEEDS_ADDRESS, "address_message": "", "hukou_address": "",
    "residence_type": "permanent", "ethnic_group": "", "is_party_member": False, "workplace": "",
    "notes": "", "relation_to_head": "", "phones": "[]", "sources": "[]",
}  # fmt: skip
assert list(RESIDENT_DEFAULTS)[: len(CREATE_GIVEN)] == CREATE_GIVEN
_DEFAULT_FIELDS, _DEFAULT_VALUES = tuple(RESIDENT_DEFAULTS), tuple(RESIDENT_DEFAULTS.values())
RESIDENT_COLUMNS = [
    *RESIDENT_DEFAULTS, "field_sources", "house_id", "household_id", "created_by", "created_at",
    "updated_at",
]  # fmt: skip
_json = json.JSONEncoder(ensure_ascii=False).encode
# What matching reads of an existing resident.
MATCH_FIELDS = ("id", *COMPARE, "phones", "sources", "field_sources")
# One plain mobile number, the common cell: no need for the general phone parser.
_ONE_MOBILE = re.compile(r"1[3-9]\d{9}")
# A value a row does not give (what `_given` leaves out).
_NOT_GIVEN = frozenset(["", None]).__contains__


@dataclass
class RowProblem:
    row: int
    column: str
    message: str

    def __str__(self):
        return f"第 {self.row} 行 [{self.column}] {self.message}"


@dataclass
class ImportReport:
    source: str = ""
    total: int = 0
    good: int = 0
    bad: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)  # rows not applied
    notes: list[RowProblem] = field(default_factory=list)  # normalised, applied
    file_notes: list[str] = field(default_factory=list)
    committed: bool = False
    encoding: str = ""
    header_row: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def rows_per_second(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "ok": self.ok,
            "committed": self.committed,
            "total": self.total,
            "good": self.good,
            "bad": self.bad,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "encoding": self.encoding,
            "header_row": self.header_row,
            "columns": self.columns,
            "file_notes": self.file_notes,
            "problems": [p.__dict__ for p in self.problems[:5000]],
            "notes": [p.__dict__ for p in self.notes[:5000]],
            "seconds": round(self.seconds, 2),
        }


class _Skip(Exception):
    pass


class _Context:
    def __init__(self, actor, source: str, allow_unresolved: bool):
        from yiwang.geo.resolve import address_index

        self.actor = actor
        self.source = source
        self.allow_unresolved = allow_unresolved
        self.index = address_index()
        self.allowed = visible_grid_ids(actor) if actor is not None else None
        self.addresses: dict[str, tuple] = {}
        self.tags = {t.name: t.id for t in Tag.objects.filter(is_active=True)}
        self.tags.update({t.code: t.id for t in Tag.objects.filter(is_active=True)})
        self.seen: dict[object, int] = {}
        self.givens: dict[tuple, tuple] = {}
        self.sources_json = _json([source])
        self.copy = connection.vendor == "postgresql"  # new residents go in by COPY
        self.bulk = False  # during a bulk load (`_bulk_load`)
        self.upkeep_now = None
        # An import into a registry that held nobody when it began (a district's first
        # load) has nobody to match by ID number; one into a registry without houses finds
        # its houses among those it made, kept here by (building, unit, room) instead of
        # asked of the database. Both hold until a batch meets someone or a house added
        # meanwhile (`_apply`).
        self.began_empty = not Resident.objects.exists()
        self.houses_made: dict[tuple, int] | None = None if House.objects.exists() else {}
        self.today = dt.date.today()
        # A building's standard address, written as the address base writes it, is that
        # building: most rows of an export need no parsing at all. (Made once per address
        # index, before any fork.)
        self.standard = self.index.by_standard_address

    def locate(self, text: str) -> tuple:
        """(grid_id, building_id, lat, lng, unit, room, message), cached by the building part
        of the address: the thousand people of a compound cost one resolver call."""
        m = _ROOM.match(text)
        if m:
            if m.group(1) is not None:
                base, unit, room = m.group(1), m.group(2) or "", m.group(3)
            else:
                base, unit, room = m.group(4), m.group(5), m.group(6)
        else:
            base, unit, room = text, None, None
        hit = self.addresses.get(base)
        if hit is None:
            b = self.standard.get(base)
            if b is not None:
                hit = (b.grid_id, b.id, b.lat, b.lng, "", "", "已定位到楼栋")
            else:
                res = self.index.resolve(base)
                hit = (res.grid_id, res.building_id, res.lat, res.lng, res.parsed.unit,
                       res.parsed.room, res.message)  # fmt: skip
            self.addresses[base] = hit
        if unit is None:
            return hit
        return (*hit[:4], unit, room, hit[6])


def _date(text: str) -> dt.date:
    m = _DATE.match(text) or _DATE8.match(text)
    if not m:
        raise ValueError(f"出生日期 {text} 无法识别,请写作 1980-01-31")
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ValueError(f"出生日期 {text} 不存在") from None


def _clean_row(number: int, v: dict, cols: dict, ctx: _Context, issues, report) -> dict:
    """One row's texts by field to field values, or _Skip after recording its problems."""
    problems: list[RowProblem] = []
    notes: list[RowProblem] = []

    def bad(fieldname, message):
        problems.append(RowProblem(number, LABELS.get(fieldname, fieldname), message))

    if issues:
        for h in cols:
            message = issues.get((number, h))
            if message:
                problems.append(RowProblem(number, h, message))
    out: dict = {}
    name = v.get("name", "").replace(" ", "")
    if not name:
        bad("name", "姓名为空")
    elif len(name) > 40:
        bad("name", "姓名过长")
    out["name"] = name
    if v.get("id_number"):
        try:
            parsed = id_parse(v["id_number"], today=ctx.today)
        except IdError as exc:
            bad("id_number", str(exc))
        else:
            out["id_number"], out["birth_date"], out["gender"] = (
                parsed.number,
                parsed.birth_date.isoformat(),
                parsed.gender,
            )
            if parsed.upgraded:
                notes.append(RowProblem(number, "身份证号", f"15 位旧号已升级为 {parsed.number}"))
    if v.get("birth_date"):
        try:
            birth = _date(v["birth_date"])
        except ValueError as exc:
            bad("birth_date", str(exc))
        else:
            if birth > ctx.today or birth.year < 1890:
                bad("birth_date", f"出生日期 {birth.isoformat()} 不合理")
            elif out.get("birth_date") and out["birth_date"] != birth.isoformat():
                bad("birth_date", f"出生日期 {birth.isoformat()} 与身份证号不一致")
            else:
                out["birth_date"] = birth.isoformat()
    if v.get("gender"):
        gender = GENDERS.get(v["gender"])
        if gender is None:
            bad("gender", f"性别 {v['gender']} 无法识别 (男/女)")
        elif out.get("gender") and out["gender"] != gender:
            bad("gender", "性别与身份证号不一致")
        else:
            out["gender"] = gender
    if v.get("phones"):
        if _ONE_MOBILE.fullmatch(v["phones"]):
            out["phones"] = [v["phones"]]
        else:
            try:
                phones, normalised = phones_parse(v["phones"])
            except IdError as exc:
                bad("phones", str(exc))
            else:
                out["phones"] = phones
                if normalised:
                    notes.append(RowProblem(number, "联系电话", f"已规范为 {'、'.join(phones)}"))
    address = v.get("address", "").strip()
    if address:
        grid_id, building_id, lat, lng, unit, room, message = ctx.locate(address)
        if grid_id is None and not ctx.allow_unresolved:
            bad("address", f"地址无法定位: {message}")
        elif grid_id is not None and ctx.allowed is not None and grid_id not in ctx.allowed:
            bad("address", "该地址不在您的管辖范围内")
        else:
            out.update(
                address=address[:200], grid_id=grid_id, building_id=building_id, lat=lat, lng=lng,
                address_status=RESOLVED if grid_id else NEEDS_ADDRESS,
                address_message="" if building_id else message[:200],
            )  # fmt: skip
            out["_house"] = (building_id, unit or "", room or "") if building_id and room else None
            if grid_id is None:
                notes.append(
                    RowProblem(number, "住址", f"地址无法定位,已放入待补地址队列: {message}")
                )
    elif not out.get("id_number"):
        bad("address", "无身份证号时须填写住址 (按 姓名+出生日期+住址 识别同一人)")
    if v.get("residence_type"):
        kind = RESIDENCE.get(v["residence_type"])
        if kind is None:
            bad("residence_type", f"人口类型 {v['residence_type']} 无法识别 (户籍/常住/流动)")
        out["residence_type"] = kind
    if v.get("party"):
        if v["party"] in PARTY_YES:
            out["is_party_member"] = True
        elif v["party"] in PARTY_NO:
            out["is_party_member"] = False
        else:
            bad("party", f"政治面貌 {v['party']} 无法识别")
    if v.get("tags"):
        ids = []
        for t in _TAG_SPLIT.split(v["tags"]):
            if not t:
                continue
            tag_id = ctx.tags.get(t)
            if tag_id is None:
                bad("tags", f"未知标签 {t} (见标签管理中的列表)")
            else:
                ids.append(tag_id)
        out["_tags"] = ids
    for f, limit in (("hukou_address", 200), ("ethnic_group", 12), ("workplace", 100),
                     ("notes", 2000), ("relation_to_head", 16), ("household_number", 32)):  # fmt: skip
        if v.get(f):
            if len(v[f]) > limit:
                bad(f, f"内容过长 (最多 {limit} 字)")
            out[f] = v[f]
    if not problems:
        key = out.get("id_number") or (name, out.get("birth_date"), out.get("address", ""))
        first = ctx.seen.get(key)
        if first is not None:
            what = "身份证号" if out.get("id_number") else "姓名、出生日期和住址"
            problems.append(RowProblem(number, LABELS["id_number"] if out.get("id_number")
                                       else "姓名", f"与第 {first} 行{what}相同,同一人只导入一次"))  # fmt: skip
        else:
            ctx.seen[key] = number
    report.notes.extend(notes)
    if problems:
        report.problems.extend(problems)
        raise _Skip
    out["_row"] = number
    _insert_values(out, ctx)
    return out


def _insert_values(r: dict, ctx: _Context) -> None:
    """A good row's values as a new resident's insert takes them (RESIDENT_DEFAULTS' columns,
    database form; COPY text on PostgreSQL), made in the reader process so the writer only
    adds what its lookups give; and which fields the row gives (`_given`)."""
    get = r.get
    # map and compress loop in C: these lines take a third less time than comprehensions.
    values = list(map(get, _DEFAULT_FIELDS, _DEFAULT_VALUES))
    given = tuple(compress(CREATE_GIVEN, map(not_, map(_NOT_GIVEN, map(get, CREATE_GIVEN)))))
    phones = get("phones")
    if phones:
        given += ("phones",)
        values[-2] = _phones_json(phones)
    else:
        values[-2] = "[]"
    values[-1] = ctx.sources_json
    # One tuple object per kind of row: a batch pickles it once.
    r["_given"] = ctx.givens.setdefault(given, given)
    r["_ins"] = _copy_resident(values) if ctx.copy else tuple(values)


_N = "\\N"
# Where a resident's values are not text: (birth date: ISO text or None), building, grid, lat,
# lng, party member.
assert [_DEFAULT_FIELDS[i] for i in (2, 5, 6, 7, 8, 14)] == [
    "birth_date", "building_id", "grid_id", "lat", "lng", "is_party_member"
]  # fmt: skip


def _copy_resident(values: list) -> str:
    """`copy_row` for a new resident's values, which have their types in known places: half
    its time. Text that needs escaping goes through copy_row."""
    v = values.copy()
    nulls = v.count(None)
    if v[2] is None:
        v[2] = _N
    for i in (5, 6, 7, 8):
        x = v[i]
        v[i] = _N if x is None else repr(x)
    v[14] = "t" if v[14] else "f"
    try:
        line = "\t".join(v)
    except TypeError:  # a None where text was expected
        return copy_row(values)
    if (
        line.count("\t") == 19
        and line.count("\\") == nulls
        and "\n" not in line
        and "\r" not in line
    ):
        return line
    return copy_row(values)


def _copy_where(where: tuple) -> str:
    """`copy_row` for a new house's (building, unit, room, grid, address, lat, lng)."""
    building, unit, room, grid, address, lat, lng = where
    text = f"{unit}\t{room}\t{address}"
    if text.count("\t") != 2 or "\\" in text or "\n" in text or "\r" in text:
        return copy_row(where)
    grid = _N if grid is None else grid
    lat = _N if lat is None else repr(lat)
    lng = _N if lng is None else repr(lng)
    return f"{building}\t{unit}\t{room}\t{grid}\t{address}\t{lat}\t{lng}"


def _cleaned(table, cols: dict, ctx: _Context, batch_size: int):
    """(good rows, report part) per batch_size good rows: the part holds the rows read, the
    bad ones and their problems, and the notes."""
    issues = table.cell_issues
    part = ImportReport()
    batch: list[dict] = []
    # Each cell straight to its field: columns not imported all go to "", which no field reads.
    fields = [cols.get(h, "") for h in table.headers]
    size = min(batch_size, FIRST_BATCH)
    for number, texts in table.cells:
        part.total += 1
        try:
            v = dict(zip(fields, texts, strict=False))  # a short row gives fewer fields
            batch.append(_clean_row(number, v, cols, ctx, issues, part))
        except _Skip:
            part.bad += 1
        if len(batch) >= size:
            yield batch, part
            part, batch, size = ImportReport(), [], batch_size
    if batch or part.total:
        yield batch, part


def _read(path, expected: set, src, mapping, ctx: _Context, batch_size: int, aside=False):
    """Reads and checks a file: first (the header part, about how many rows follow), the part
    holding the encoding, header row, columns and file notes, or why the file cannot be
    imported (then nothing follows); then `_cleaned`'s batches. `aside`: as read_table's."""
    head = ImportReport()
    try:
        table = read_table(path, expected_headers=expected, aside=aside)
    except TableError as exc:
        head.problems.append(RowProblem(0, "文件", str(exc)))
        yield head, 0
        return
    head.encoding, head.header_row = table.encoding, table.header_row
    head.file_notes.extend(table.notes)
    cols = head.columns = _columns(table.headers, src, mapping)
    if "name" not in cols.values() or not ({"id_number", "address"} & set(cols.values())):
        found = "、".join(h for h in table.headers[:12] if h) or "(空)"
        head.problems.append(
            RowProblem(
                table.header_row,
                "表头",
                f"未找到必需的列 姓名 和 身份证号/住址 (读到: {found});"
                "若表头为乱码,请检查文件编码 (支持 UTF-8、GBK、GB18030) 或另存为 xlsx",
            )
        )
        yield head, 0
        return
    if table.encoding not in ("xlsx", "utf-8", "utf-8-sig", "gb18030", "gbk", "ascii"):
        head.file_notes.append(f"文件编码按 {table.encoding} 读取")
    yield head, table.total_hint
    yield from _cleaned(table, cols, ctx, batch_size)


def _read_worker(send, args) -> None:
    try:
        for item in _read(*args, aside=True):  # this process has no other thread
            send.send(item)
        send.send(None)
    except BaseException as exc:  # noqa: BLE001 (any failure goes back to the parent)
        send.send(RuntimeError(f"{type(exc).__name__}: {exc}"))
    finally:
        send.close()


# Batches the reader may run ahead of the writer: enough to carry it over a slow commit.
READ_AHEAD = 4


def _read_in_child(*args):
    """`_read`, run in a forked process up to READ_AHEAD batches ahead of the caller. The
    child opens the file itself: loading an xlsx sheet is a quarter of a large import's work,
    and here it runs beside the writing. A thread of this process takes the batches off the
    pipe as they come, so the child never waits for a batch to be written; it unpickles them
    while the writer waits on the database."""
    fork = mp.get_context("fork")
    receive, send = fork.Pipe(duplex=False)
    child = fork.Process(target=_read_worker, args=(send, args), daemon=True)
    child.start()
    send.close()
    ahead: Queue = Queue(maxsize=READ_AHEAD)

    def take() -> None:
        while True:
            try:
                item = receive.recv()
            except (EOFError, OSError):
                item = RuntimeError("import reader process ended early")
            ahead.put(item)
            if item is None or isinstance(item, BaseException):
                return

    taker = threading.Thread(target=take, name="import-reader", daemon=True)
    taker.start()
    try:
        while True:
            item = ahead.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        if child.is_alive():
            child.kill()
        while taker.is_alive():  # it ends at the pipe's end; make room for its last put
            with suppress(Empty):
                ahead.get(timeout=0.1)
        receive.close()
        child.join()


@contextmanager
def _sqlite_for_a_large_import(large: bool):
    """This connection's SQLite settings for a large import, put back after it. The
    write-ahead log is copied into the database file whenever it passes 1,000 pages, at the
    commit that passed it: with a large import's batches that was at nearly every commit, each
    copy writing the same index pages again. Here the log grows to ~128 MB between copies (any
    connection's next commit after the import copies what is left). (A larger page cache
    measured slower at 1.1 M rows: the memory map already serves the reads.)"""
    if not large or connection.vendor != "sqlite":
        yield
        return
    settings = {"wal_autocheckpoint": 32768}
    with connection.cursor() as cur:
        before = {}
        for name, value in settings.items():
            cur.execute(f"PRAGMA {name}")
            before[name] = int(cur.fetchone()[0])
            cur.execute(f"PRAGMA {name} = {value}")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            for name, value in before.items():
                cur.execute(f"PRAGMA {name} = {value}")


@contextmanager
def _bulk_load(on: bool, ctx: _Context):
    """Residents, houses and tag links written without their secondary indexes (and on
    PostgreSQL their foreign keys), made again at the end (`registry.bulk.upkeep_deferred`):
    into near-empty tables, keeping eight indexes up to date row by row, and checking five
    foreign keys per row, took most of an import's writing time. The unique indexes stay
    (matching and uniqueness need them), and so does the small index of people known without
    an ID number. A row without one is matched by name and birth date, so the first such row
    has the residents' indexes made then (`_apply`). On PostgreSQL, each batch also turns the
    search queue's insert triggers off and queues its people itself (search.bulk)."""
    if not on:
        yield
        return
    # Houses and tag links are looked up by their unique keys only.
    models = (Resident, House, Resident.tags.through)
    with upkeep_deferred(*models, keep=["resident_no_id_name_birth"]) as make:
        ctx.bulk, ctx.upkeep_now = True, lambda: make(Resident)
        try:
            yield
        finally:
            ctx.bulk, ctx.upkeep_now = False, None


def _columns(headers: list[str], source: ImportSource | None, mapping: dict | None) -> dict:
    saved = dict(source.column_map) if source else {}
    extra = {**saved, **(mapping or {})}
    cols = {}
    for h in headers:
        f = extra.get(h) or COLUMNS.get(h)
        if f in FIELDS and f not in cols.values():
            cols[h] = f
    return cols


def residents_import(
    *,
    actor,
    path: str | Path,
    source: str = "import",
    mapping: dict[str, str] | None = None,
    commit: bool = False,
    allow_unresolved: bool = False,
    batch_size: int = 5000,
    progress=None,
    parallel: bool | None = None,
    bulk: bool | None = None,
) -> ImportReport:
    """Checks (and with commit=True applies) a residents spreadsheet. See the module doc.

    `parallel` reads and checks the rows in a forked process while this one matches and
    writes the batches before (on the second core); by default for files of
    PARALLEL_FROM_BYTES or more. The child only reads the file and works in memory: it never
    touches the database, whose connections it shares with this process.

    `bulk` writes the rows with the tables' secondary indexes and foreign-key checks set
    aside, and makes them at the end (`_bulk_load`); by default for a commit of a large file
    holding at least as many rows as the registry has residents, such as a district's first
    load."""
    if actor is not None and not has_permission(actor, IMPORT_REGISTRY):
        raise PermissionDenied(IMPORT_REGISTRY)
    started = time.perf_counter()
    report = ImportReport(source=source)
    src = ImportSource.objects.filter(name=source).first()
    expected = set(COLUMNS) | set((src.column_map if src else {}) or {}) | set(mapping or {})
    # Before any fork: the child gets the address index and tag list without a database.
    ctx = _Context(actor, source, allow_unresolved)
    if parallel is None:
        parallel = (
            Path(path).stat().st_size >= PARALLEL_FROM_BYTES
            and "fork" in mp.get_all_start_methods()
        )
    read = _read_in_child if parallel else _read
    stream = read(path, expected, src, mapping, ctx, batch_size)
    head, total_hint = next(stream)
    report.encoding, report.header_row, report.columns = (
        head.encoding,
        head.header_row,
        head.columns,
    )
    report.file_notes.extend(head.file_notes)
    if head.problems:
        stream.close()
        report.problems.extend(head.problems)
        return report
    if progress:
        progress(0, total_hint)  # the file is open: the page can show how much there is
    if commit:
        # After an import that was killed in its bulk load:
        for model in (Resident, House, Resident.tags.through):
            upkeep_ensure(model)
        if bulk is None:
            bulk = total_hint >= PARALLEL_FROM and total_hint >= Resident.objects.count()
    large = commit and total_hint >= PARALLEL_FROM
    with (
        _sqlite_for_a_large_import(large),
        _bulk_load(commit and bool(bulk), ctx),
        closing(stream),
    ):
        for batch, part in stream:
            report.total += part.total
            report.bad += part.bad
            report.problems.extend(part.problems)
            report.notes.extend(part.notes)
            if batch:
                _apply(batch, ctx, report, commit)
            if progress:
                progress(report.total, max(total_hint, report.total))
    if progress:
        progress(report.total, report.total)
    if commit:
        report.committed = True
        if mapping:
            ImportSource.objects.update_or_create(
                name=source, defaults={"column_map": {**(src.column_map if src else {}), **mapping}}
            )
        elif src is None:
            ImportSource.objects.create(name=source, label=source)
    access_log_write(
        actor=actor,
        action=AccessLog.Action.IMPORT,
        purpose="verification",
        filter={"file": Path(path).name, "source": source, "commit": commit},
        record_count=report.created + report.updated,
        channel="import",
    )
    report.seconds = time.perf_counter() - started
    return report


_PHONE_PLAIN = re.compile(r"[0-9+\- ]+")


def _phones_json(phones: list[str]) -> str:
    """The JSON of a list of parsed phone numbers (digits, +, - and spaces: nothing to escape)
    without the encoder, which took a tenth of an import's writing time."""
    if len(phones) == 1:  # the common case, without a generator
        if _PHONE_PLAIN.fullmatch(phones[0]):
            return f'["{phones[0]}"]'
    elif phones and all(_PHONE_PLAIN.fullmatch(p) for p in phones):
        return '["' + '", "'.join(phones) + '"]'
    return _json(phones)


def _in_chunks(values: list, size: int = 5000, per: int = 2):
    """Chunks of `values` for one query each; `per`: placeholders an item takes, counted
    generously (at least 2) to leave room for a query's other parameters."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        # Django says 999 for any SQLite; the library in use says how many it takes.
        limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        size = min(size, limit // max(per, 2))
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _select_residents(where: str, params: list, pairs: list | None = None) -> list[dict]:
    """Active residents as dicts of MATCH_FIELDS by a raw WHERE (placeholders %s), or by
    (name, birth date) pairs joined from a VALUES list so each pair is one index probe:
    compiling a 5,000-value IN through the ORM takes longer than the database needs."""
    qn = connection.ops.quote_name
    cols = ", ".join("r." + qn(Resident._meta.get_field(f).column) for f in MATCH_FIELDS)
    table = qn(Resident._meta.db_table)
    sql = f"SELECT {cols} FROM {table} r WHERE r.archived_at IS NULL AND {where}"  # noqa: S608
    if pairs:
        if connection.vendor == "postgresql":
            keys = "SELECT * FROM unnest(%s::text[], %s::date[])"
            params = [_pg_array([n for n, _ in pairs]), _pg_array([b for _, b in pairs]), *params]
        else:
            keys = f"VALUES {_marks(len(pairs), '(%s, %s)')}"
            params = [v for pair in pairs for v in pair] + params
        sql = (
            f"WITH k(n, b) AS ({keys}) "  # noqa: S608
            f"SELECT {cols} FROM k JOIN {table} r ON r.name = k.n AND r.birth_date = k.b "
            f"WHERE r.archived_at IS NULL AND {where}"
        )
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    out = []
    for row in rows:
        hit = dict(zip(MATCH_FIELDS, row, strict=True))
        for f in ("phones", "sources", "field_sources"):
            if isinstance(hit[f], str):
                hit[f] = json.loads(hit[f])
        if isinstance(hit["birth_date"], dt.date):
            hit["birth_date"] = hit["birth_date"].isoformat()
        hit["is_party_member"] = bool(hit["is_party_member"])
        out.append(hit)
    return out


def _marks(n: int, each: str = "%s") -> str:
    return ", ".join([each] * n)


def _in(column: str, values: list) -> tuple[str, list]:
    """`column IN (…)` for a chunk of text values: one array parameter on PostgreSQL (the
    driver would otherwise split a 5,000-placeholder query in Python), placeholders on SQLite."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::text[])", [_pg_array(values)]
    return f"{column} IN ({_marks(len(values))})", list(values)


# An array element that needs no quotes: no braces, quotes, commas, backslashes or spaces.
_ARRAY_PLAIN = re.compile(r'[^{}",\\\s]+')


def _pg_array(values) -> str | list:
    """An array parameter for PostgreSQL: its literal text when no element needs quoting (ID
    numbers, dates, rooms, ids, names), else the list. The driver builds an array literal in
    Python, value by value, which took longer than the query it was for."""
    parts = [str(v) for v in values]
    if all(_ARRAY_PLAIN.fullmatch(p) and p.upper() != "NULL" for p in parts) and None not in values:
        return "{" + ",".join(parts) + "}"
    return list(values)


def _houses_existing(keys: set[tuple], ctx: _Context) -> dict[tuple, int]:
    """Live houses by (building, unit, room), each key one probe of house_room_unique: asking
    by building alone read every room of a thousand buildings to find a few."""
    made = ctx.houses_made
    if made is not None:
        return {k: made[k] for k in keys if k in made}
    houses: dict = {}
    if not keys:
        return houses
    table = connection.ops.quote_name(House._meta.db_table)
    with connection.cursor() as cur:
        for chunk in _in_chunks(sorted(keys), 3000, per=4):
            if connection.vendor == "postgresql":
                # A probe per key, whatever the statistics say: during a large import into an
                # empty registry they still say "no houses", and the planner hashed every
                # house in the district for each batch instead.
                sql = (
                    "SELECT h.id, h.building_id, h.unit, h.room "  # noqa: S608
                    "FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS k(b, u, r) "
                    "CROSS JOIN LATERAL (SELECT id, building_id, unit, room "
                    f"FROM {table} WHERE building_id = k.b AND unit = k.u AND room = k.r "
                    "AND archived_at IS NULL LIMIT 1) h"
                )
                params = [_pg_array(column) for column in zip(*chunk, strict=True)]
            else:
                sql = (
                    f"WITH k(b, u, r) AS (VALUES {_marks(len(chunk), '(%s, %s, %s)')}) "  # noqa: S608
                    f"SELECT h.id, h.building_id, h.unit, h.room FROM k JOIN {table} h "
                    "ON h.building_id = k.b AND h.unit = k.u AND h.room = k.r "
                    "WHERE h.archived_at IS NULL AND h.building_id IS NOT NULL"
                )
                params = [v for key in chunk for v in key]
            cur.execute(sql, params)
            for hid, b, u, room in cur.fetchall():
                houses[(b, u, room)] = hid
    return houses


def _existing(batch: list[dict], ctx: _Context) -> dict:
    """Existing active residents for a batch: by ID number, then by name + birth + address for
    rows without a match (a person first known without an ID number). A handful of indexed
    queries per batch, never one per row."""
    found: dict = {}
    # Into a registry that began empty, an ID number is new: the file names each once
    # (ctx.seen), and anyone added meanwhile is stopped by the unique index (see `_apply`).
    ids = [] if ctx.began_empty else [r["id_number"] for r in batch if r.get("id_number")]
    for chunk in _in_chunks(ids):
        # The partial unique index's condition, as written there, lets SQLite use it.
        test, params = _in("r.id_number", chunk)
        where = f"NOT (r.id_number = '') AND {test}"
        for hit in _select_residents(where, params):
            found[hit["id_number"]] = hit
    rest = [r for r in batch if r.get("id_number") not in found]
    # A row with an ID number can only be someone first recorded without one (the small
    # partial index resident_no_id_name_birth); a row without one can be anybody of that name,
    # birth date and address.
    candidates: list[dict] = []
    with_id = []
    # Unless nobody is known without an ID number: then there is no need to ask one by one.
    if any(r.get("id_number") for r in rest) and _select_residents("r.id_number = '' LIMIT 1", []):
        with_id = sorted({(r["name"], r["birth_date"]) for r in rest if r.get("id_number")})
    for chunk in _in_chunks(with_id, 2000):
        candidates += _select_residents("r.id_number = ''", [], pairs=chunk)
    no_id = [r for r in rest if not r.get("id_number")]
    dated = sorted({(r["name"], r["birth_date"]) for r in no_id if r.get("birth_date")})
    for chunk in _in_chunks(dated, 2000):
        candidates += _select_residents("1 = 1", [], pairs=chunk)
    undated = sorted({r["name"] for r in no_id if not r.get("birth_date")})
    for chunk in _in_chunks(undated):
        test, params = _in("r.name", chunk)
        candidates += _select_residents(f"r.birth_date IS NULL AND {test}", params)
    by_key: dict = {}
    for hit in sorted(candidates, key=lambda h: h["id"]):
        by_key.setdefault((hit["name"], hit["birth_date"], hit["address"]), hit)
    for r in rest:
        hit = by_key.get((r["name"], r.get("birth_date"), r.get("address", "")))
        if hit is not None and (not hit["id_number"] or not r.get("id_number")):
            found[id(r)] = hit
    return found


def _apply(batch: list[dict], ctx: _Context, report: ImportReport, commit: bool) -> None:
    if ctx.upkeep_now is not None and not all(r.get("id_number") for r in batch):
        ctx.upkeep_now()
        ctx.upkeep_now = None
    while True:
        trusting = ctx.began_empty or ctx.houses_made is not None
        batch_kept, refused, unchanged, creates, updates, houses, households = _match(batch, ctx)
        if not commit:
            break
        try:
            with transaction.atomic():
                _write(batch_kept, creates, updates, houses, households, ctx)
        except IntegrityError as exc:
            if trusting:
                # Someone was added while this import ran (the same ID number, or a house of
                # the same room): from here on the batches are matched as usual.
                ctx.began_empty, ctx.houses_made = False, None
                for r in batch:
                    r.pop("_id", None)
                    r.pop("_new_tags", None)
                continue
            _failed(batch_kept, report, refused, exc)
            return
        except DatabaseError as exc:
            _failed(batch_kept, report, refused, exc)
            return
        if ctx.houses_made is not None:
            ctx.houses_made.update(houses)
        break
    report.problems.extend(refused)
    report.bad += len(refused)
    report.unchanged += unchanged
    report.good += len(batch_kept)
    report.created += len(creates)
    report.updated += len(updates)


def _failed(batch: list[dict], report: ImportReport, refused: list, exc: Exception) -> None:
    rows = [r["_row"] for r in batch]
    report.problems.extend(refused)
    report.bad += len(refused) + len(batch)
    if rows:
        report.problems.append(
            RowProblem(min(rows), "批次", f"第 {min(rows)}–{max(rows)} 行写入失败,未写入: {exc}")
        )


def _match(batch: list[dict], ctx: _Context) -> tuple:
    """What a batch would do: (the rows kept, the rows refused as problems, how many are
    unchanged, the creates, the updates (row, match, changed fields, new values), the houses
    and households the rows point at). Reads only."""
    found = _existing(batch, ctx)
    refused = []
    if ctx.allowed is not None:
        kept = []
        for r in batch:
            hit = found.get(r.get("id_number")) or found.get(id(r))
            if hit is not None and hit["grid_id"] not in ctx.allowed and hit["grid_id"] is not None:
                refused.append(
                    RowProblem(r["_row"], "身份证号", "该人员登记在您的管辖范围之外,不能由您更新")
                )
            else:
                kept.append(r)
        batch = kept
    # Houses and households the rows point at.
    houses = _houses_existing({r["_house"] for r in batch if r.get("_house")}, ctx)
    numbers = {r["household_number"] for r in batch if r.get("household_number")}
    households = dict(
        Household.objects.filter(number__in=sorted(numbers), archived_at=None).values_list(
            "number", "id"
        )
    ) if numbers else {}  # fmt: skip
    tag_links: dict[int, set[int]] = {}
    matched_ids = [h["id"] for h in found.values()]
    if matched_ids and any(r.get("_tags") for r in batch):
        through = Resident.tags.through
        for rid, tid in through.objects.filter(resident_id__in=matched_ids).values_list(
            "resident_id", "tag_id"
        ):
            tag_links.setdefault(rid, set()).add(tid)

    creates: list[dict] = []
    updates: list[tuple[dict, dict, list[str], dict]] = []
    unchanged = 0
    for r in batch:
        hit = found.get(r.get("id_number")) or found.get(id(r))
        if hit is None:
            creates.append(r)
            continue
        changed = []
        new = {}
        for f in COMPARE:
            if f in r and r[f] is not None and r[f] != hit[f]:
                new[f] = r[f]
                changed.append(f)
        if r.get("phones"):
            merged = list(hit["phones"] or []) + [
                p for p in r["phones"] if p not in (hit["phones"] or [])
            ]
            if merged != (hit["phones"] or []):
                new["phones"] = merged
                changed.append("phones")
        new_tags = set(r.get("_tags") or ()) - tag_links.get(hit["id"], set())
        if new_tags:
            changed.append("tags")
            r["_new_tags"] = new_tags
        if r.get("_house") and r["_house"] in houses and houses[r["_house"]] != hit["house_id"]:
            new["house_id"] = houses[r["_house"]]
            changed.append("house_id")
        if not changed and ctx.source in (hit["sources"] or []):
            unchanged += 1
            continue
        updates.append((r, hit, changed, new))
    return batch, refused, unchanged, creates, updates, houses, households


def _write(batch, creates, updates, houses, households, ctx) -> None:
    actor = ctx.actor if getattr(ctx.actor, "is_authenticated", False) else None
    source = ctx.source
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    actor_id = actor.id if actor is not None else None
    pg = connection.vendor == "postgresql"
    new_houses: dict = {}
    house_tail = (RESOLVED, "", actor_id, stamp, stamp, "residential", "unknown", "", "")
    if pg:  # the same for every house: its COPY text made once
        house_tail = copy_row(house_tail)
    for r in creates + [u[0] for u in updates]:
        key = r.get("_house")
        if key and key not in houses and key not in new_houses:
            where = (*key, r["grid_id"], r["address"], r["lat"], r["lng"])
            new_houses[key] = f"{_copy_where(where)}\t{house_tail}" if pg else where + house_tail
    if new_houses:
        ids = insert_rows(House, HOUSE_FIELDS, list(new_houses.values()))
        houses.update(zip(new_houses, ids, strict=True))
    new_households = {}
    for r in creates + [u[0] for u in updates]:
        number = r.get("household_number")
        if number and number not in households and number not in new_households:
            new_households[number] = Household(
                number=number, grid_id=r.get("grid_id"), building_id=r.get("building_id"),
                address=r.get("address", ""), lat=r.get("lat"), lng=r.get("lng"),
                house_id=houses.get(r.get("_house")), created_by=actor,
                address_status=r.get("address_status", AddressStatus.NEEDS_ADDRESS),
            )  # fmt: skip
    if new_households:
        Household.objects.bulk_create(new_households.values(), batch_size=2000)
        households.update({k: h.id for k, h in new_households.items()})

    # New residents: the reader made each one's values; here they get their house, household
    # and which fields this source set ({field: source}), whose JSON depends only on which
    # fields a row gives, so it is made once per kind of row.
    by_fields: dict[tuple, str] = {}
    tail = (actor_id, stamp, stamp)
    if pg:
        tail = copy_row(tail)
    rows = []
    for r in creates:
        house_id = houses.get(r.get("_house"))
        household_id = households.get(r.get("household_number"))
        key = (r["_given"], house_id is not None, household_id is not None)
        field_sources = by_fields.get(key)
        if field_sources is None:
            given = r["_given"] + ("house_id",) * key[1] + ("household_id",) * key[2]
            field_sources = _json(dict.fromkeys(given, source))
            field_sources = by_fields[key] = copy_row([field_sources]) if pg else field_sources
        if pg:
            house = "\\N" if house_id is None else house_id
            household = "\\N" if household_id is None else household_id
            rows.append(f"{r['_ins']}\t{field_sources}\t{house}\t{household}\t{tail}")
        else:
            rows.append((*r["_ins"], field_sources, house_id, household_id, *tail))
    through = Resident.tags.through
    searched = [Resident._meta.db_table, through._meta.db_table]
    with insert_triggers_off(searched, postgres=ctx.bulk) as off:
        ids = insert_rows(Resident, RESIDENT_COLUMNS, rows)
        tag_rows = []
        for r, rid in zip(creates, ids, strict=True):
            r["_id"] = rid
            if pg:  # two ids: their COPY text as it is
                tag_rows.extend(f"{rid}\t{t}" for t in r.get("_tags") or ())
            else:
                tag_rows.extend((rid, t) for t in r.get("_tags") or ())
        if tag_rows:
            insert_rows(through, ["resident", "tag"], tag_rows)
        if off:
            queue("r", ids)  # their tags are in the same documents

    # Changed residents: only the changed fields, grouped by which fields they are.
    groups: dict[tuple, list] = {}
    links = []
    for r, hit, changed, new in updates:
        r["_id"] = hit["id"]
        number = r.get("household_number")
        if number and households.get(number) != hit["household_id"]:
            new["household_id"] = households[number]
            changed.append("household_id")
        if r.get("_house") and houses.get(r["_house"]) != hit["house_id"]:
            new["house_id"] = houses[r["_house"]]
            changed.append("house_id")
        sources_now = list(hit["sources"] or [])
        if source not in sources_now:
            sources_now.append(source)
        field_sources = dict(hit["field_sources"] or {})
        field_sources.update(dict.fromkeys(changed, source))
        new.update(sources=sources_now, field_sources=field_sources, updated_at=stamp)
        if "birth_date" in new:
            new["birth_date"] = dt.date.fromisoformat(new["birth_date"])
        fields = tuple(sorted(new))
        groups.setdefault(fields, []).append((hit["id"], *(new[f] for f in fields)))
        links.extend((hit["id"], t) for t in sorted(r.get("_new_tags") or ()))
    for fields, group in groups.items():
        convert = row_converter(Resident, ["id", *fields])
        update_rows(Resident, list(fields), [convert(row) for row in group])
    if links:
        through.objects.bulk_create(
            [through(resident_id=rid, tag_id=t) for rid, t in links],
            batch_size=5000,
            ignore_conflicts=True,
        )
    heads = {}
    for r in batch:
        if (
            r.get("household_number")
            and r.get("relation_to_head") in HEAD_RELATIONS
            and r.get("_id")
        ):
            heads[households[r["household_number"]]] = r["_id"]
    if heads:
        update_rows(Household, ["head"], [(h, rid) for h, rid in heads.items()])
