"""The demo district's cases: a year of them for the small district, five years (5 M) at Shibei
scale. Every case runs a plausible life (report → accept → dispatch → handle → reply → verify
→ close → rate, sometimes rejected or reopened) on the district's working calendar, and the
last days are still open so desks have queues.

Generated with numpy a month at a time, written with executemany (SQLite) or COPY
(PostgreSQL), the same code path at both scales. Cases of the last `full_days` carry every
event; older ones their key events (report, accept/dispatch, reply, close, rate, reopen,
overdue). Big loads drop and rebuild the tables' non-unique indexes and generate the next
months in a forked process while this one writes: 5 M cases (~24 M events) took 30 min on
PostgreSQL and 40 min on SQLite on a shared, saturated 2-core machine.
Deterministic for a seed and an end instant (default: the current hour)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import repeat
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from yiwang.cases.deadlines import calendar, reset_calendar
from yiwang.cases.models import (
    Assignment,
    CalendarDay,
    Case,
    CaseEvent,
    Category,
    DailySequence,
)
from yiwang.cases.services import FIRST_LEVEL, MODE_RESOLVE_CAP
from yiwang.cases.states import Action, Channel, Level, Mode, Outcome, State
from yiwang.cases.workcalendar import _CN_2026_HOLIDAY_RANGES, _CN_2026_WORKDAYS
from yiwang.org.models import Building, Department, GridTeamMember, TeamRole

from . import names

TZ = ZoneInfo("Asia/Shanghai")

# District departments that own a category (the street units are chosen per case, by the
# category's street_unit_suffix, at dispatch time).
CATEGORY_DEPARTMENTS = {
    "SRHJ01": "CG",  # 占道经营
    "SRHJ03": "GA",  # 乱停乱放
    "SRHJ05": "CG",  # 违规广告
    "LLDW01": "CG",  # 流浪犬猫
    "ZSRM01": "STHJ",  # 施工噪声
    "ZSRM03": "SCJG",  # 商业噪声
    "WZDJ01": "ZJ",  # 违章建筑
    "GGSS01": "CG",  # 道路破损
    "GGSS02": "CG",  # 路灯不亮
    "GGSS03": "CG",  # 井盖缺失
    "YLFW02": "MZ",  # 养老补贴
    "SCJG01": "SCJG",
    "SCJG02": "SCJG",
    "SCJG03": "SCJG",
    "WYGL01": "ZJ",  # 物业服务
    "WYGL02": "ZJ",  # 电梯故障
    "AQYH02": "YJ",  # 燃气隐患
    "HJWR01": "STHJ",  # 油烟扰民
    "HJWR02": "CG",  # 垃圾分类
}

# 国务院办公厅关于2025年部分节假日安排的通知; 2026 comes from the work calendar module.
_CN_2025_HOLIDAY_RANGES = (
    ("元旦", date(2025, 1, 1), date(2025, 1, 1)),
    ("春节", date(2025, 1, 28), date(2025, 2, 4)),
    ("清明节", date(2025, 4, 4), date(2025, 4, 6)),
    ("劳动节", date(2025, 5, 1), date(2025, 5, 5)),
    ("端午节", date(2025, 5, 31), date(2025, 6, 2)),
    ("国庆节、中秋节", date(2025, 10, 1), date(2025, 10, 8)),
)
_CN_2025_WORKDAYS = (
    ("春节", date(2025, 1, 26)),
    ("春节", date(2025, 2, 8)),
    ("劳动节", date(2025, 4, 27)),
    ("国庆节", date(2025, 9, 28)),
    ("国庆节", date(2025, 10, 11)),
)
# 除夕 of each year: cases drop over the Spring Festival week (seasonality only).
NEW_YEARS_EVE = [
    date(2020, 1, 24), date(2021, 2, 11), date(2022, 1, 31), date(2023, 1, 21),
    date(2024, 2, 9), date(2025, 1, 28), date(2026, 2, 16), date(2027, 2, 5),
]  # fmt: skip


@dataclass(frozen=True)
class CaseScale:
    years: float
    total: int | None  # None: per_grid_year × grids × years
    per_grid_year: int
    full_days: int  # cases reported in the last full_days carry every event; older, key ones


BULK_LOAD_FROM = 100_000  # cases; from here the load drops and rebuilds indexes

CASE_SCALES = {
    "small": CaseScale(1.0, None, 90, 400),
    "shibei": CaseScale(5.0, 5_000_000, 0, 60),
}

# Leaf category → (weight, summer amplitude). The document's most common: 占道经营, 乱堆乱放,
# 卫生死角, 噪声, 流浪动物.
CATEGORY_MIX = {
    "SRHJ01": (14, 0.35), "SRHJ02": (12, 0.1), "SRHJ03": (8, 0.0), "SRHJ04": (11, 0.2),
    "SRHJ05": (3, 0.0), "LLDW01": (7, 0.25), "ZSRM01": (5, 0.3), "ZSRM02": (5, 0.35),
    "ZSRM03": (3, 0.4), "WZDJ01": (3, 0.1), "GGSS01": (4, -0.1), "GGSS02": (3, -0.3),
    "GGSS03": (1.5, 0.0), "GGSS04": (1, 0.1), "LLJF01": (3, 0.1), "YLFW01": (2, -0.2),
    "YLFW02": (1, 0.0), "SCJG01": (1.5, 0.1), "SCJG02": (1.5, 0.2), "SCJG03": (1, 0.0),
    "WYGL01": (4, 0.0), "WYGL02": (1.5, 0.0), "AQYH01": (2, -0.1), "AQYH02": (0.5, -0.4),
    "HJWR01": (2.5, 0.35), "HJWR02": (2.5, 0.0),
}  # fmt: skip

CHANNELS = [
    (Channel.HOTLINE, 0.35),
    (Channel.GRID_WORKER, 0.30),
    (Channel.RESIDENT, 0.20),
    (Channel.PATROL, 0.07),
    (Channel.DESK, 0.05),
    (Channel.VIDEO, 0.03),
]
CH_HOTLINE, CH_GRID, CH_RESIDENT, CH_PATROL, CH_DESK, CH_VIDEO = range(6)
RATED_SHARE = np.array([0.92, 0.25, 0.85, 0.10, 0.60, 0.0])
VIDEO_CATEGORIES = {"SRHJ01", "SRHJ02", "SRHJ03", "AQYH01"}

# Local hour of report: residents and the hotline all day, staff in working hours.
HOURS_PUBLIC = np.array(
    [1, 0.5, 0.3, 0.3, 0.4, 1, 3, 6, 8, 8, 7, 6, 5, 6, 7, 7, 7, 7, 7, 8, 7, 5, 3, 2], float
)
HOURS_STAFF = np.array(
    [0, 0, 0, 0, 0, 0.2, 1, 5, 10, 10, 9, 6, 3, 7, 9, 9, 8, 4, 1, 0.5, 0.2, 0.1, 0, 0], float
)

SPOTS = ["门口", "后院", "楼下", "东侧路边", "西门附近", "北侧空地", "南门外", "楼道里", "附近"]
WHEN = ["早晨7点左右", "每天傍晚", "晚上9点以后", "中午前后", "每逢周末", "近一周来", "最近几天"]
HOW_LONG = ["已有半个多月", "已持续一周", "多次反映未果", "近期尤为严重", "已影响居民正常生活"]

# (title, description) per category; {place} is the address, {spot}, {when}, {long} vary.
TEXTS: dict[str, list[tuple[str, str]]] = {
    "SRHJ01": [
        (
            "{place}{spot}游商占道经营",
            "市北区{place}{spot}{when}就有大量游商浮贩占道经营,影响行人和车辆通行,"
            "{long},请尽快清理整治,并答复。",
        ),
        ("{place}商户占道经营", "{place}{spot}沿街商户把货架摆到人行道上,占道经营,请管一管。"),
    ],
    "SRHJ02": [
        ("{place}{spot}乱堆杂物", "{place}{spot}堆放大量废旧家具和杂物,{long},存在安全隐患,请清理。"),
        ("{place}建筑垃圾乱堆", "{place}{spot}装修建筑垃圾随意堆放,无人清运,请尽快处理。"),
    ],
    "SRHJ03": [
        ("{place}{spot}车辆乱停", "{place}{spot}{when}车辆乱停乱放,堵塞通道,居民出行困难,请处理。"),
    ],
    "SRHJ04": [
        (
            "{place}卫生脏乱差",
            "{place}{spot}卫生脏乱差,垃圾长期无人清理,蚊蝇滋生,{long},请尽快处理。",
        ),
        ("{place}{spot}卫生死角", "{place}{spot}有卫生死角,异味很大,请安排清扫。"),
    ],
    "SRHJ05": [("{place}{spot}小广告泛滥", "{place}{spot}墙面和电线杆上乱贴小广告,影响市容,请清理。")],
    "LLDW01": [
        (
            "{place}流浪狗扰民",
            "{place}{spot}有多只流浪狗聚集,{when}狂吠不止,还追咬路人,{long},请处理。",
        ),
        ("{place}流浪猫聚集", "{place}{spot}流浪猫越来越多,夜间叫声扰民,请协调处置。"),
    ],
    "ZSRM01": [
        ("{place}附近工地夜间施工噪声", "{place}附近工地{when}仍在施工,噪声很大,影响休息,请查处。"),
    ],
    "ZSRM02": [
        ("{place}楼上噪声扰民", "{place}楼上住户{when}经常发出很大声响,{long},沟通无果,请协调。"),
        ("{place}{spot}广场舞音响扰民", "{place}{spot}{when}广场舞音响声音过大,请协调降低音量。"),
    ],
    "ZSRM03": [("{place}{spot}商户噪声扰民", "{place}{spot}商户用高音喇叭招揽生意,{when}吵得无法休息,请处理。")],
    "WZDJ01": [
        ("{place}违章搭建", "{place}{spot}有住户私自搭建彩钢板房,{long},存在安全隐患,请查处。"),
    ],
    "GGSS01": [("{place}{spot}路面破损", "{place}{spot}路面塌陷破损,雨天积水,行人容易摔倒,请维修。")],
    "GGSS02": [("{place}{spot}路灯不亮", "{place}{spot}路灯{long}一直不亮,夜间出行不安全,请维修。")],
    "GGSS03": [("{place}{spot}井盖缺失", "{place}{spot}井盖缺失,存在严重安全隐患,请尽快处理。")],
    "GGSS04": [("{place}健身器材损坏", "{place}{spot}健身器材损坏,老人孩子使用有危险,请维修。")],
    "LLJF01": [("{place}邻里纠纷", "{place}上下楼邻居因漏水问题产生纠纷,{long},请社区帮助调解。")],
    "YLFW01": [("{place}独居老人需要上门服务", "{place}有独居老人行动不便,需要上门助餐助洁服务,请协助。")],
    "YLFW02": [("咨询养老补贴办理", "家住{place},家中老人年满80周岁,咨询高龄津贴如何办理。")],
    "SCJG01": [("{place}{spot}无照经营", "{place}{spot}有商户无照经营,{when}营业到很晚,请核查。")],
    "SCJG02": [("{place}{spot}食品安全问题", "{place}{spot}小饭店后厨卫生条件差,疑似存在食品安全问题,请检查。")],
    "SCJG03": [("{place}{spot}商户价格欺诈", "{place}{spot}商户商品不明码标价,结账时价格与标示不符,请查处。")],
    "WYGL01": [("{place}物业服务不到位", "{place}物业公司服务不到位,楼道卫生长期无人打扫,{long},请督促整改。")],
    "WYGL02": [("{place}电梯故障", "{place}电梯{long}频繁故障停运,老人上下楼困难,请督促物业维修。")],
    "AQYH01": [("{place}{spot}消防通道堵塞", "{place}{spot}消防通道被车辆和杂物堵塞,存在安全隐患,请清理。")],
    "AQYH02": [("{place}疑似燃气泄漏", "{place}{spot}闻到明显燃气味,担心泄漏,请尽快派人排查。")],
    "HJWR01": [("{place}{spot}饭店油烟扰民", "{place}{spot}饭店油烟直排,{when}油烟味很重,无法开窗,请处理。")],
    "HJWR02": [("{place}垃圾分类不规范", "{place}{spot}垃圾桶满溢,分类投放不规范,{long},请督促整改。")],
}  # fmt: skip

REPLIES = {
    "SRHJ01": "接到市民反映的问题后,{unit}高度重视,立即派执法队员到现场查看,对占道经营商户进行"
    "劝导整改,并将加大重点时段巡查力度,实行常态化管理。",
    "SRHJ04": "接到市民反映的问题后,{unit}立即派人到现场查看,已安排环卫人员清理,"
    "后续将督促环卫公司加强日常保洁。",
    "LLDW01": "接到市民反映的问题后,{unit}多次到现场查看,已联系流浪动物救助单位收容,"
    "社区将派志愿者不定期巡逻,倡导文明养犬。",
}
REPLY_DEFAULT = "接到市民反映的问题后,{unit}立即安排人员到现场核实处置,问题已处理,后续将加强巡查。"
REPLY_PARTLY = "经{unit}现场核查,已处置大部分问题,剩余部分需协调相关单位,将持续跟进。"
REPLY_UNSOLVABLE = "经{unit}现场核查并多方协调,该问题受客观条件限制暂无法解决,已向市民说明情况。"
REPLY_NOT_OURS = "经{unit}核实,该问题不属于本单位职责范围,已移交{to}办理并告知市民。"
PARTLY_NOTES = ["涉及产权单位,需进一步协调", "需列入年度维修计划", "商户已整改,仍需持续巡查"]
UNSOLVABLE_NOTES = ["历史遗留问题,受规划限制暂无法解决", "涉及私人产权,缺乏处置依据"]
TRANSFER_TO = ["市供电公司", "市水务集团", "青岛能源集团", "海湾集团燃气公司", "联通公司市北分公司"]
INVALID_NOTES = ["来电人反映内容不清,无法核实", "经核实,反映问题已不存在"]
UNSATISFIED_NOTES = ["问题没有根本解决,仍然存在", "处理不及时,反复出现"]

_DUP = "duplicate"


def _reply_text(outcome: str, code: str, unit: str, p: int) -> str:
    """What the handler tells the reporter, matching the outcome the round ends with."""
    if outcome == "partly":
        return REPLY_PARTLY.format(unit=unit)
    if outcome == "unsolvable":
        return REPLY_UNSOLVABLE.format(unit=unit)
    if outcome == "not_ours":
        return REPLY_NOT_OURS.format(unit=unit, to=TRANSFER_TO[p % len(TRANSFER_TO)])
    return REPLIES.get(code, REPLY_DEFAULT).format(unit=unit)


@dataclass
class _Ctx:
    """What every month's generation needs, read once."""

    grid_ids: np.ndarray
    grid_codes: list
    grid_comm: np.ndarray
    grid_street: np.ndarray
    grid_street_idx: np.ndarray
    grid_weight: np.ndarray
    worker_names: list
    community_names: list  # per grid
    street_names: list  # per grid
    b_off: np.ndarray  # buildings per grid: offsets into the arrays below
    b_cnt: np.ndarray
    b_id: np.ndarray
    b_lat: np.ndarray
    b_lng: np.ndarray
    b_place: list
    cats: list
    cat_ids: np.ndarray
    cat_mode: np.ndarray  # index into MODES
    cat_resp: np.ndarray
    cat_resolve: np.ndarray
    cat_dept: np.ndarray  # department id or 0
    cat_suffix: list
    cat_amp: np.ndarray
    cat_weight: np.ndarray
    street_units: dict  # (street index, suffix) → department id
    dept_names: dict
    dept_codes: dict
    clock: _Clock
    pg: bool


MODES = [Mode.IMMEDIATE, Mode.FAST, Mode.ASSIGNED, Mode.JOINT, Mode.TOP]
M_IMMEDIATE, M_FAST, M_ASSIGNED, M_JOINT, M_TOP = range(5)
MODE_VALUES = [m.value for m in MODES]


class _Clock:
    """Working time as a cumulative count of working seconds at each local minute, so that
    deadlines and 'n working hours later' are a searchsorted over arrays. Gives the same
    instants as WorkCalendar.add_working_hours for whole-second starts."""

    def __init__(self, cal, first: date, days: int):
        self.base = int(datetime(first.year, first.month, first.day, tzinfo=TZ).timestamp())
        per_day = np.zeros(1440, bool)
        for s, e in cal.periods:
            per_day[s.hour * 60 + s.minute : e.hour * 60 + e.minute] = True
        working = np.array([cal.is_working_day(first + timedelta(days=i)) for i in range(days)])
        self.mask = (working[:, None] & per_day[None, :]).ravel()
        self.cum = np.concatenate([[0], np.cumsum(self.mask.astype(np.int64) * 60)])

    def work(self, t: np.ndarray) -> np.ndarray:
        """Working seconds from the base up to t."""
        rel = t - self.base
        m = rel // 60
        return self.cum[m] + np.where(self.mask[m], rel - m * 60, 0)

    def at(self, w: np.ndarray) -> np.ndarray:
        """The instant at which the working seconds reach w (w > 0)."""
        j = np.searchsorted(self.cum, w, side="left")
        return self.base + (j - 1) * 60 + (w - self.cum[j - 1])

    def add(self, t: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        return self.at(self.work(t) + np.maximum(seconds.astype(np.int64), 1))


def link_categories(built) -> None:
    """Owning departments for the district-owned categories."""
    for code, dept in CATEGORY_DEPARTMENTS.items():
        department = built.departments.get(dept)
        if department is not None:
            Category.objects.filter(code=code).update(department=department)


def seed_calendar() -> None:
    """China's 2025 and 2026 holidays and make-up working days (调休)."""
    rows = {}
    for ranges, workdays in (
        (_CN_2025_HOLIDAY_RANGES, _CN_2025_WORKDAYS),
        (_CN_2026_HOLIDAY_RANGES, _CN_2026_WORKDAYS),
    ):
        for name, first, last in ranges:
            for i in range((last - first).days + 1):
                rows[first + timedelta(days=i)] = (False, name)
        for name, d in workdays:
            rows[d] = (True, f"{name}调休上班")
    existing = set(CalendarDay.objects.values_list("date", flat=True))
    CalendarDay.objects.bulk_create(
        [
            CalendarDay(date=d, is_workday=w, name=n)
            for d, (w, n) in rows.items()
            if d not in existing
        ]
    )
    reset_calendar()


def _context(built, rng: np.random.Generator, clock: _Clock) -> _Ctx:
    grids = sorted(built.grids, key=lambda g: g.id)
    streets = {s.id: i for i, s in enumerate(sorted(built.streets, key=lambda s: s.id))}
    street_name = {s.id: s.name for s in built.streets}
    community_name = {c.id: c.name for c in built.communities}
    workers = dict(
        GridTeamMember.objects.filter(role=TeamRole.GRID_WORKER)
        .order_by("-id")
        .values_list("grid_id", "name")
    )
    rows = list(
        Building.objects.order_by("grid_id", "id").values_list(
            "id", "grid_id", "road", "number", "compound", "lat", "lng"
        )
    )
    grid_index = {g.id: i for i, g in enumerate(grids)}
    b_grid = np.array([grid_index[r[1]] for r in rows], np.int64)
    b_cnt = np.bincount(b_grid, minlength=len(grids))
    if (b_cnt == 0).any():
        raise ValueError("every grid needs at least one building for demo cases")
    b_off = np.concatenate([[0], np.cumsum(b_cnt)[:-1]])
    cats = list(Category.objects.filter(code__in=list(CATEGORY_MIX)).order_by("code"))
    depts = list(Department.objects.select_related("street"))
    units = {}
    for d in depts:
        if d.street_id and d.code.startswith(str(d.street.code)):
            units[(streets[d.street_id], d.code[len(d.street.code) :])] = d.id
    return _Ctx(
        grid_ids=np.array([g.id for g in grids]),
        grid_codes=[g.code for g in grids],
        grid_comm=np.array([g.community_id for g in grids]),
        grid_street=np.array([g.street_id for g in grids]),
        grid_street_idx=np.array([streets[g.street_id] for g in grids]),
        grid_weight=rng.lognormal(0, 0.45, len(grids)),
        worker_names=[workers.get(g.id, "网格员") for g in grids],
        community_names=[community_name.get(g.community_id, "社区") for g in grids],
        street_names=[street_name.get(g.street_id, "街道") for g in grids],
        b_off=b_off,
        b_cnt=b_cnt,
        b_id=np.array([r[0] for r in rows]),
        b_lat=np.array([r[5] for r in rows]),
        b_lng=np.array([r[6] for r in rows]),
        b_place=[f"{r[2]}{r[3]}号{r[4]}" for r in rows],
        cats=cats,
        cat_ids=np.array([c.id for c in cats]),
        cat_mode=np.array([MODES.index(c.default_mode) for c in cats]),
        cat_resp=np.array([c.response_hours for c in cats]),
        cat_resolve=np.array([c.resolve_hours for c in cats]),
        cat_dept=np.array([c.department_id or 0 for c in cats]),
        cat_suffix=[c.street_unit_suffix for c in cats],
        cat_amp=np.array([CATEGORY_MIX[c.code][1] for c in cats]),
        cat_weight=np.array([CATEGORY_MIX[c.code][0] for c in cats], float),
        street_units=units,
        dept_names={d.id: d.name for d in depts},
        dept_codes={d.code: d.id for d in depts},
        clock=clock,
        pg=connection.vendor == "postgresql",
    )


def _day_weights(days: list[date]) -> np.ndarray:
    doy = np.array([d.timetuple().tm_yday for d in days], float)
    w = 1 + 0.22 * np.cos(2 * np.pi * (doy - 196) / 365.25)  # summer peak, winter trough
    weekday = np.array([d.weekday() for d in days])
    w *= np.where(weekday >= 5, 0.78, 1.0)
    cal = calendar()
    hol = np.array([(d in cal.holidays) for d in days])
    w *= np.where(hol & (weekday < 5), 0.7, 1.0)
    eves = np.array([e.toordinal() for e in NEW_YEARS_EVE])
    ords = np.array([d.toordinal() for d in days])
    since = ords[:, None] - eves[None, :]
    festival = ((since >= 0) & (since <= 6)).any(axis=1)
    near = ((since >= -7) & (since <= 14)).any(axis=1)
    w *= np.where(festival, 0.45, np.where(near, 0.85, 1.0))
    return w


def _lognormal(rng, median, sigma, n):
    return np.asarray(median) * np.exp(sigma * rng.standard_normal(n))


def _dumps(d: dict) -> str:
    return json.dumps(d, ensure_ascii=False)


BULK_TABLES = (Case, CaseEvent, Assignment)


def _drop_indexes() -> list[str]:
    """Non-unique indexes of the bulk-loaded tables are dropped during a big load and rebuilt
    after it (sorting once beats millions of random inserts). Returns their DDL."""
    tables = [m._meta.db_table for m in BULK_TABLES]
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)"
                " AND indexdef NOT LIKE 'CREATE UNIQUE%%'",
                [tables],
            )
        else:
            cur.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                " AND sql NOT LIKE 'CREATE UNIQUE%%' AND tbl_name IN (%s, %s, %s)",
                tables,
            )
        found = cur.fetchall()
        for name, _sql in found:
            cur.execute(f'DROP INDEX "{name}"')
    return [sql for _name, sql in found]


def _create_indexes(ddl: list[str]) -> None:
    with connection.cursor() as cur:
        for sql in ddl:
            cur.execute(sql)
        if connection.vendor == "postgresql":
            for model in BULK_TABLES:
                cur.execute(f"ANALYZE {model._meta.db_table}")
        else:
            cur.execute("PRAGMA analysis_limit=2000")
            cur.execute("ANALYZE")


class _Writer:
    def __init__(self, pg: bool):
        self.pg = pg

    def ts(self, t: np.ndarray, valid: np.ndarray | None = None) -> list:
        """Epoch seconds → the text each backend stores for an aware datetime."""
        s = np.datetime_as_string(t.astype("datetime64[s]"), unit="s")
        chars = s.view(np.uint32).reshape(len(s), -1)
        chars[:, 10] = ord(" ")
        out = s.tolist()
        if self.pg:
            out = [x + "+00" for x in out]
        if valid is not None:
            for i in np.flatnonzero(~valid):
                out[i] = None
        return out

    def insert(self, model, fields: list[str], rows) -> None:
        table = model._meta.db_table
        cols = [model._meta.get_field(f).column for f in fields]
        connection.ensure_connection()
        if self.pg:
            with connection.cursor() as cur:
                sql = f"COPY {table} ({', '.join(cols)}) FROM STDIN"
                with cur.cursor.copy(sql) as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            marks = ", ".join("?" * len(cols))
            sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})"  # noqa: S608 (model names)
            cur = connection.connection.cursor()
            try:
                cur.executemany(sql, rows)
            finally:
                cur.close()


CASE_FIELDS = [
    "id", "number", "channel", "category", "title", "description", "address", "lat", "lng",
    "grid", "community", "street", "building", "reporter_name", "reporter_phone", "anonymous",
    "wants_reply", "external_id", "state", "mode", "level", "department", "reported_at",
    "response_due", "resolve_due", "responded_at", "replied_at", "closed_at", "is_overdue",
    "warned", "reply", "outcome", "outcome_note", "transferred_to", "satisfaction",
    "reopen_count", "duplicate_of", "version", "updated_at",
]  # fmt: skip
EVENT_FIELDS = ["case", "action", "actor_label", "from_state", "to_state", "note", "data"]
EVENT_FIELDS += ["created_at"]
ASSIGNMENT_FIELDS = [
    "case", "department", "role", "status", "checkin_due", "checked_in_at", "done_at",
    "report", "return_reason", "created_at",
]  # fmt: skip


def load_built():
    """The Built of a tree already in the database (to add cases to an earlier demo)."""
    from yiwang.org.models import Community, District, Grid, Street

    from .org import Built

    return Built(
        district=District.objects.order_by("id").first(),
        grids=list(Grid.objects.order_by("id")),
        streets=list(Street.objects.order_by("id")),
        communities=list(Community.objects.order_by("id")),
        departments={d.code: d for d in Department.objects.order_by("id")},
    )


def build_cases(
    built,
    *,
    scale: str = "small",
    seed: int = 20261130,
    progress=None,
    end: datetime | None = None,
    total: int | None = None,
) -> int:
    """Links categories to departments, seeds the holiday calendar, then generates the cases
    reported over the scale's years up to `end` (default: the start of the current hour);
    `total` overrides the scale's count. Returns the number of cases written."""
    from . import ensure_seed_data

    ensure_seed_data()
    conf = CASE_SCALES[scale]
    link_categories(built)
    seed_calendar()
    cal = calendar()
    end = (end or timezone.now().replace(minute=0, second=0, microsecond=0)).astimezone(UTC)
    end_s = int(end.timestamp())
    last_day = end.astimezone(TZ).date()
    first_day = last_day - timedelta(days=round(conf.years * 365) - 1)
    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    clock = _Clock(cal, first_day - timedelta(days=1), len(days) + 400)
    rng = np.random.default_rng(seed)
    ctx = _context(built, rng, clock)
    total = total or conf.total or round(conf.per_grid_year * len(ctx.grid_ids) * conf.years)

    w = _day_weights(days)
    day0 = datetime(last_day.year, last_day.month, last_day.day, tzinfo=TZ)
    last_frac = (end - day0).total_seconds() / 86400
    w[-1] *= last_frac
    per_day = rng.multinomial(total, w / w.sum())
    existing = dict(
        DailySequence.objects.filter(day__gte=first_day, day__lte=last_day).values_list(
            "day", "last"
        )
    )
    next_id = (Case.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    full_from = end_s - conf.full_days * 86400
    writer = _Writer(ctx.pg)
    months: dict[tuple, list[int]] = {}
    for i, d in enumerate(days):
        months.setdefault((d.year, d.month), []).append(i)
    bulk = total >= BULK_LOAD_FROM
    dropped = _drop_indexes() if bulk else []
    # Rows are consistent by construction; SQLite checks keys row by row otherwise (a no-op
    # inside a transaction, e.g. in tests).
    sqlite_fk_off = bulk and not ctx.pg and connection.get_autocommit()
    if sqlite_fk_off:
        with connection.cursor() as cur:
            cur.execute("PRAGMA foreign_keys=OFF")
    try:
        _months(
            ctx, writer, months=months, per_day=per_day, days=days, seed=seed, next_id=next_id,
            end_s=end_s, last_frac=last_frac, full_from=full_from, existing=existing,
            progress=progress, total=total, parallel=bulk,
        )  # fmt: skip
    finally:
        if sqlite_fk_off:
            with connection.cursor() as cur:
                cur.execute("PRAGMA foreign_keys=ON")
        if dropped:
            _create_indexes(dropped)
    return total


_GEN: dict = {}


def _generate(task: dict) -> tuple:
    """One month's rows; runs in a forked helper process during big loads."""
    ctx = _GEN["ctx"]
    task = dict(task)
    rng = np.random.default_rng([_GEN["seed"], task.pop("k")])
    return _month(ctx, rng, _Writer(ctx.pg).ts, **task)


def _months(ctx, writer, *, months, per_day, days, seed, next_id, end_s, last_frac, full_from,
            existing, progress, total, parallel) -> None:  # fmt: skip
    """Generates month by month and writes each month in its own transaction; for big loads a
    forked process generates the next months while this one writes."""
    tasks = []
    for k, (ym, idx) in enumerate(months.items()):
        n = int(per_day[idx].sum())
        if n == 0:
            continue
        tasks.append(
            {
                "k": k,
                "month": ym[1],
                "days": [days[i] for i in idx],
                "counts": per_day[idx],
                "first_id": next_id,
                "end_s": end_s,
                "last_frac": last_frac if idx[-1] == len(days) - 1 else 1.0,
                "full_from": full_from,
                "existing": {days[i]: existing[days[i]] for i in idx if days[i] in existing},
            }
        )
        next_id += n
    _GEN.update(ctx=ctx, seed=seed)
    done = 0
    pool = None
    if parallel and len(tasks) > 1:
        import multiprocessing

        pool = multiprocessing.get_context("fork").Pool(1)
    try:
        pending: list = []
        for i in range(len(tasks)):
            if pool is None:
                result = _generate(tasks[i])
            else:
                while len(pending) < 3 and i + len(pending) < len(tasks):
                    pending.append(pool.apply_async(_generate, (tasks[i + len(pending)],)))
                result = pending.pop(0).get()
            with transaction.atomic():
                _write_month(writer, result, existing)
            done += result[4]
            if progress:
                progress(done, total)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    if ctx.pg and done:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT MAX(id) FROM "  # noqa: S608
                f"{Case._meta.db_table}))",
                [Case._meta.db_table],
            )


def _write_month(writer: _Writer, result: tuple, existing: dict) -> None:
    cases, events, assignments, touched, _n = result
    writer.insert(Case, CASE_FIELDS, cases)
    writer.insert(CaseEvent, EVENT_FIELDS, events)
    writer.insert(Assignment, ASSIGNMENT_FIELDS, assignments)
    # The day counters continue after what was generated.
    new = []
    for d, last in touched:
        if d in existing:
            DailySequence.objects.filter(day=d).update(last=last)
        else:
            new.append(DailySequence(day=d, last=last))
        existing[d] = last
    DailySequence.objects.bulk_create(new)


def _month(
    ctx: _Ctx,
    rng,
    ts,
    *,
    month,
    days,
    counts,
    first_id,
    end_s,
    last_frac,
    full_from,
    existing,
) -> tuple:
    n = int(counts.sum())
    clock = ctx.clock
    day_of = np.repeat(np.arange(len(days)), counts)
    day_start = np.array(
        [int(datetime(d.year, d.month, d.day, tzinfo=TZ).timestamp()) for d in days]
    )

    # What, where, who.
    season = np.cos(2 * np.pi * (month - 7) / 12)
    cw = ctx.cat_weight * (1 + ctx.cat_amp * season)
    cat = rng.choice(len(ctx.cats), n, p=cw / cw.sum())
    ch = rng.choice(6, n, p=[p for _, p in CHANNELS])
    video_ok = np.array([c.code in VIDEO_CATEGORIES for c in ctx.cats])
    ch = np.where((ch == CH_VIDEO) & ~video_ok[cat], CH_PATROL, ch)
    staff = np.isin(ch, [CH_GRID, CH_PATROL, CH_DESK])
    hour = np.where(
        staff,
        rng.choice(24, n, p=HOURS_STAFF / HOURS_STAFF.sum()),
        rng.choice(24, n, p=HOURS_PUBLIC / HOURS_PUBLIC.sum()),
    )
    tod = hour * 3600 + rng.integers(0, 3600, n)
    tod = np.where(day_of == len(days) - 1, (tod * last_frac).astype(np.int64), tod)
    t0 = day_start[day_of] + tod
    order = np.lexsort((rng.random(n), t0))
    t0, cat, ch, day_of = t0[order], cat[order], ch[order], day_of[order]
    g = rng.choice(len(ctx.grid_ids), n, p=ctx.grid_weight / ctx.grid_weight.sum())
    bld = ctx.b_off[g] + (rng.random(n) * ctx.b_cnt[g]).astype(np.int64)

    # Duplicates repeat a recent case's place and category; invalid ones are rejected too.
    u_rej = rng.random(n)
    dup = u_rej < 0.012
    invalid = (u_rej >= 0.012) & (u_rej < 0.02)
    orig = np.maximum(np.arange(n) - rng.integers(1, 40, n), 0)
    dup &= (orig < np.arange(n)) & ~dup[orig] & ~invalid[orig]
    g = np.where(dup, g[orig], g)
    bld = np.where(dup, bld[orig], bld)
    cat = np.where(dup, cat[orig], cat)
    rejected = dup | invalid

    # How it is handled.
    mode = ctx.cat_mode[cat].copy()
    mode = np.where((ch == CH_GRID) & (mode == M_FAST) & (rng.random(n) < 0.4), M_IMMEDIATE, mode)
    immediate = mode == M_IMMEDIATE
    whistle = (mode == M_JOINT) | (mode == M_TOP)
    street_idx = ctx.grid_street_idx[g]
    has_suffix = np.array([bool(s) for s in ctx.cat_suffix])[cat]
    unit_zf = np.array([ctx.street_units.get((s, "ZF"), 0) for s in range(street_idx.max() + 1)])
    suffix_unit = np.zeros(n, np.int64)
    for ci, suffix in enumerate(ctx.cat_suffix):
        if suffix:
            sel = cat == ci
            units = np.array(
                [ctx.street_units.get((s, suffix), 0) for s in range(street_idx.max() + 1)]
            )
            suffix_unit[sel] = units[street_idx[sel]]
    dept = ctx.cat_dept[cat]
    u = rng.random(n)
    lead = np.zeros(n, np.int64)
    assigned = mode == M_ASSIGNED
    lead = np.where(assigned & has_suffix & ((u < 0.8) | (dept == 0)), suffix_unit, lead)
    lead = np.where(assigned & (lead == 0), dept, lead)
    fast = mode == M_FAST
    lead = np.where(fast & has_suffix & (u < 0.4), suffix_unit, lead)
    lead = np.where(fast & ~has_suffix & (dept > 0) & (u < 0.6), dept, lead)
    lead = np.where(whistle, np.where(has_suffix & (u < 0.6), suffix_unit, dept), lead)
    lead = np.where(whistle & (lead == 0), unit_zf[street_idx], lead)
    assist = np.where(whistle, np.where(lead == dept, unit_zf[street_idx], dept), 0)
    assist = np.where(assist == lead, 0, assist)
    dispatched = lead > 0

    cap = np.array([MODE_RESOLVE_CAP.get(m, 1e9) for m in MODES])[mode]
    resolve_h = np.minimum(ctx.cat_resolve[cat], cap)
    resp_h = ctx.cat_resp[cat]
    response_due = clock.add(t0, resp_h * 3600)
    resolve_due = clock.add(t0, resolve_h * 3600)

    # The life of the case, in seconds since the epoch.
    t_resp = clock.add(t0, _lognormal(rng, 2400, 1.1, n))
    t_resp = np.where(immediate, t0 + rng.integers(60, 900, n), t_resp)
    t_disp = t_resp + rng.integers(60, 1800, n)
    t_chk = clock.add(t_disp, _lognormal(rng, 2400, 0.8, n))
    t_start = np.where(
        whistle,
        t_chk + rng.integers(300, 3600, n),
        clock.add(np.where(dispatched, t_disp, t_resp), _lognormal(rng, 3600, 0.9, n)),
    )
    t_start = np.where(immediate, t_resp + 60, t_start)
    stuck = rng.random(n) < 0.004
    handle = _lognormal(rng, 0.22 * resolve_h * 3600, 0.7, n) * np.where(stuck, 12, 1)
    handle = np.minimum(handle, 400 * 3600)
    t_reply = np.where(
        immediate, t_start + _lognormal(rng, 1500, 0.6, n).astype(np.int64),
        clock.add(t_start, handle),
    )  # fmt: skip
    t_part = t_start + ((t_reply - t_start) * rng.uniform(0.3, 0.9, n)).astype(np.int64)
    t_verify = t_reply + np.where(
        immediate, 60, np.maximum(_lognormal(rng, 10800, 1.0, n), 300).astype(np.int64)
    )
    t_close = t_verify + np.where(
        immediate, 60, np.maximum(_lognormal(rng, 1800, 0.8, n), 60).astype(np.int64)
    )
    t_rate = t_close + np.maximum(_lognormal(rng, 20 * 3600, 0.9, n), 600).astype(np.int64)

    # Outcomes and ratings, honest: mostly solved, some not.
    u = rng.random(n)
    outcome1 = np.select(
        [u < 0.905, u < 0.95, u < 0.97], ["solved", "partly", "unsolvable"], "not_ours"
    )
    outcome1 = np.where(immediate, "solved", outcome1)
    rated1 = rng.random(n) < RATED_SHARE[ch]
    solved1 = outcome1 == "solved"
    u = rng.random(n)
    unsat1 = rated1 & (u < np.where(solved1, 0.025, 0.25))
    sat1 = np.where(
        unsat1, "unsatisfied",
        np.where(rng.random(n) < np.where(solved1, 0.82, 0.35), "satisfied", "basic"),
    )  # fmt: skip
    reopen = unsat1 & ~rejected
    t_reopen = t_rate
    resolve_due2 = clock.add(t_reopen, ctx.cat_resolve[cat] * 3600)
    t_start2 = clock.add(t_reopen, _lognormal(rng, 3600, 0.8, n))
    t_reply2 = clock.add(t_start2, _lognormal(rng, 0.3 * ctx.cat_resolve[cat] * 3600, 0.7, n))
    t_verify2 = t_reply2 + np.maximum(_lognormal(rng, 7200, 1.0, n), 300).astype(np.int64)
    t_close2 = t_verify2 + np.maximum(_lognormal(rng, 1800, 0.8, n), 60).astype(np.int64)
    t_rate2 = t_close2 + np.maximum(_lognormal(rng, 20 * 3600, 0.9, n), 600).astype(np.int64)
    u = rng.random(n)
    outcome2 = np.select([u < 0.8, u < 0.95], ["solved", "partly"], "unsolvable")
    rated2 = reopen & (rng.random(n) < RATED_SHARE[ch])
    u = rng.random(n)
    sat2 = np.select([u < 0.12, u < 0.55], ["unsatisfied", "basic"], "satisfied")

    # Where each case stands at `end`.
    def by(t):
        return t <= end_s

    normal = ~rejected
    state = np.full(n, State.REPORTED.value, dtype=object)
    state[rejected & by(t_resp)] = State.REJECTED.value
    steps = [
        (normal & by(t_resp), State.ACCEPTED),
        (normal & dispatched & by(t_disp), State.DISPATCHED),
        (normal & by(t_start), State.IN_PROGRESS),
        (normal & by(t_reply), State.REPLIED),
        (normal & by(t_verify), State.VERIFIED),
        (normal & by(t_close), State.CLOSED),
        (reopen & by(t_reopen), State.REOPENED),
        (reopen & by(t_start2), State.IN_PROGRESS),
        (reopen & by(t_reply2), State.REPLIED),
        (reopen & by(t_verify2), State.VERIFIED),
        (reopen & by(t_close2), State.CLOSED),
    ]
    for mask, st in steps:
        state[mask] = st.value
    second = reopen & by(t_reopen)
    closed1 = normal & by(t_close)
    closed_final = np.where(second, by(t_close2), closed1)
    is_closed = closed_final & normal
    closed_at = np.where(rejected, t_resp, np.where(second, t_close2, t_close))
    closed_valid = (rejected & by(t_resp)) | is_closed
    replied_at = np.where(second, t_reply2, t_reply)
    replied_valid = normal & by(replied_at)
    final_resolve_due = np.where(second, resolve_due2, resolve_due)
    overdue = (
        np.where(closed_valid & normal, closed_at > final_resolve_due, final_resolve_due < end_s)
        & normal
    )
    outcome = np.where(
        rejected & by(t_resp),
        np.where(dup, Outcome.DUPLICATE.value, Outcome.INVALID.value),
        np.where(is_closed, np.where(second, outcome2, outcome1), ""),
    )
    sat = np.where(
        is_closed & ~second & rated1 & by(t_rate) & ~reopen,
        sat1,
        np.where(is_closed & second & rated2 & by(t_rate2), sat2, ""),
    )
    level = np.array([FIRST_LEVEL[m].value for m in MODES], dtype=object)[mode]

    # Text.
    gi = g.tolist()
    place = [ctx.b_place[b] for b in bld.tolist()]
    pick = rng.integers(0, 1 << 30, (n, 5))
    pk = pick.tolist()
    titles, descs = [], []
    cat_codes = [c.code for c in ctx.cats]
    for i, c in enumerate(cat.tolist()):
        opts = TEXTS[cat_codes[c]]
        p = pk[i]
        tt, dd = opts[p[0] % len(opts)]
        kw = {
            "place": place[i],
            "spot": SPOTS[p[1] % len(SPOTS)],
            "when": WHEN[p[2] % len(WHEN)],
            "long": HOW_LONG[p[3] % len(HOW_LONG)],
        }
        titles.append(tt.format(**kw)[:120])
        descs.append(dd.format(**kw))
    surname = [names.SURNAMES[p[4] % len(names.SURNAMES)] for p in pk]
    anonymous = np.isin(ch, [CH_HOTLINE, CH_RESIDENT]) & (rng.random(n) < 0.05)
    public = np.isin(ch, [CH_HOTLINE, CH_RESIDENT, CH_DESK])
    gender = rng.random(n) < 0.5
    chl = ch.tolist()
    rep_name = []
    for i in range(n):
        if anonymous[i]:
            rep_name.append("")
        elif public[i]:
            rep_name.append(surname[i] + ("先生" if gender[i] else "女士"))
        elif chl[i] in (CH_GRID, CH_PATROL):
            rep_name.append(ctx.worker_names[gi[i]])
        else:
            rep_name.append("")
    phones = rng.integers(0, 10**9, n).tolist()
    prefix = ["13", "15", "18", "17"]
    phone = [f"{prefix[phones[i] % 4]}{phones[i]:09d}" if public[i] else "" for i in range(n)]
    channel_values = [c.value for c, _ in CHANNELS]
    ch_value = [channel_values[c] for c in chl]
    report_label = []
    for i in range(n):
        c = chl[i]
        if c == CH_HOTLINE:
            report_label.append("12345热线")
        elif c == CH_VIDEO:
            report_label.append("视频监控平台")
        else:
            report_label.append(rep_name[i] or "匿名")
    desk_label = [
        ctx.worker_names[gi[i]] if lv == Level.GRID
        else ctx.street_names[gi[i]] if lv == Level.STREET
        else ctx.community_names[gi[i]]
        for i, lv in enumerate(level.tolist())
    ]  # fmt: skip
    lead_l = lead.tolist()
    handler = [ctx.dept_names[d] if d else desk_label[i] for i, d in enumerate(lead_l)]
    out_l = outcome.tolist()
    reply_text, outcome_note, transferred = [], [], []
    for i in range(n):
        o = out_l[i]
        p = pk[i][1]
        if not replied_valid[i]:
            reply_text.append("")
        else:
            o_round = outcome2[i] if second[i] else outcome1[i]
            reply_text.append(_reply_text(o_round, cat_codes[cat[i]], handler[i], p))
        if o == "partly":
            outcome_note.append(PARTLY_NOTES[p % len(PARTLY_NOTES)])
        elif o == "unsolvable":
            outcome_note.append(UNSOLVABLE_NOTES[p % len(UNSOLVABLE_NOTES)])
        elif o == "not_ours":
            outcome_note.append("非本单位职责,已移交")
        elif o == _DUP:
            outcome_note.append("与此前反映的问题相同,已并案办理")
        elif o == "invalid":
            outcome_note.append(INVALID_NOTES[p % len(INVALID_NOTES)])
        else:
            outcome_note.append("")
        transferred.append(TRANSFER_TO[p % len(TRANSFER_TO)] if o == "not_ours" else "")

    # Numbers: per local day, in report order, after any numbers already taken that day.
    dcount = np.bincount(day_of, minlength=len(days))
    dstart = np.concatenate([[0], np.cumsum(dcount)[:-1]])
    offset = np.array([existing.get(d, 0) for d in days])
    seq = (np.arange(n) - dstart[day_of] + 1 + offset[day_of]).tolist()
    code = settings.YIWANG_DISTRICT_CODE
    dstr = [f"{code}{d:%Y%m%d}-" for d in days]
    dl = day_of.tolist()
    number = [f"{dstr[dl[i]]}{seq[i]:06d}" for i in range(n)]
    external = [
        f"12345-{dstr[dl[i]][len(code) : -1]}{seq[i]:05d}" if chl[i] == CH_HOTLINE else ""
        for i in range(n)
    ]

    ids = np.arange(first_id, first_id + n)

    # Events: one list of rows per action, vectorised; full timelines for recent cases.
    full = t0 >= full_from
    events: list = []
    version = np.ones(n, np.int64)

    def add(mask, action, t, frm, to, *, note="", data="{}", label=None, moves=True):
        """One action's events for the cases in mask, as rows; str arguments are constants,
        lists are per case."""
        sel = np.flatnonzero(mask & (t <= end_s))
        if not len(sel):
            return
        if moves:
            np.add.at(version, sel, 1)
        idx = sel.tolist()
        k = len(idx)

        def col(x):
            return repeat(str(x), k) if isinstance(x, str) else [x[i] for i in idx]

        events.extend(
            zip(
                ids[sel].tolist(),
                repeat(str(action), k),
                col(desk_label if label is None else label),
                col(frm),
                col(to),
                col(note),
                col(data),
                ts(t[sel]),
                strict=False,  # repeat() is endless
            )
        )

    grid_code = ctx.grid_codes
    mode_l = mode.tolist()
    report_data = [
        f'{{"channel": "{ch_value[i]}", "mode": "{MODE_VALUES[m]}", "grid": "{grid_code[gi[i]]}"}}'
        for i, m in enumerate(mode_l)
    ]
    full_l = full.tolist()
    report_note = [descs[i][:200] if full_l[i] else "" for i in range(n)]
    add(np.ones(n, bool), Action.REPORT, t0, "", State.REPORTED, note=report_note,
        data=report_data, label=report_label, moves=False)  # fmt: skip
    orig_l = orig.tolist()
    reject_data = [
        _dumps({"duplicate_of": number[orig_l[i]] if dup[i] else None}) if rejected[i] else ""
        for i in range(n)
    ]
    add(rejected, Action.REJECT, t_resp, State.REPORTED, State.REJECTED, note=outcome_note,
        data=reject_data)  # fmt: skip
    add(normal & (full | ~dispatched), Action.ACCEPT, t_resp, State.REPORTED, State.ACCEPTED)
    assist_l = assist.tolist()
    whistle_l = whistle.tolist()
    dispatch_json: dict = {}

    def dispatch_data(d, a, w):
        key = (d, a, w)
        if key not in dispatch_json:
            dispatch_json[key] = _dumps(
                {
                    "lead": ctx.dept_names[d],
                    "assists": [ctx.dept_names[a]] if a else [],
                    "whistle": w,
                }
            )
        return dispatch_json[key]

    disp_data = [
        dispatch_data(d, assist_l[i], whistle_l[i]) if d else "" for i, d in enumerate(lead_l)
    ]
    add(normal & dispatched, Action.DISPATCH, t_disp, State.ACCEPTED, State.DISPATCHED,
        data=disp_data)  # fmt: skip
    chk_data = [_dumps({"department": handler[i], "late": False}) if whistle_l[i] and full_l[i]
                else "" for i in range(n)]  # fmt: skip
    add(full & normal & whistle, Action.CHECK_IN, t_chk, State.DISPATCHED, State.DISPATCHED,
        data=chk_data, label=handler)  # fmt: skip
    start_from = np.where(dispatched, State.DISPATCHED.value, State.ACCEPTED.value).tolist()
    add(full & normal, Action.START, t_start, start_from, State.IN_PROGRESS, label=handler)
    part_data = [_dumps({"department": ctx.dept_names[a]}) if a else "" for a in assist_l]
    add(full & normal & (assist > 0), Action.PART_DONE, t_part, State.IN_PROGRESS,
        State.IN_PROGRESS, data=part_data, note="已配合完成现场处置")  # fmt: skip
    cat_l = cat.tolist()
    reply1 = [
        _reply_text(outcome1[i], cat_codes[cat_l[i]], handler[i], pk[i][1]) if full_l[i] else ""
        for i in range(n)
    ]
    reply2 = [
        _reply_text(outcome2[i], cat_codes[cat_l[i]], handler[i], pk[i][1])
        if full_l[i] and reopen[i]
        else ""
        for i in range(n)
    ]
    add(normal, Action.REPLY, t_reply, State.IN_PROGRESS, State.REPLIED, label=handler,
        note=reply1)  # fmt: skip
    verifier = [ctx.worker_names[x] for x in gi]
    add(full & normal, Action.VERIFY, t_verify, State.REPLIED, State.VERIFIED, label=verifier,
        note="现场核查,问题已处置")  # fmt: skip
    outcome_json = {o: _dumps({"outcome": o}) for o in Outcome.values}
    sat_json = {v: _dumps({"satisfaction": v}) for v in ("satisfied", "basic", "unsatisfied")}
    close_data = [outcome_json[o] for o in outcome1.tolist()]
    add(normal, Action.CLOSE, t_close, State.VERIFIED, State.CLOSED, data=close_data)
    rater = [rep_name[i] or "12345回访" for i in range(n)]
    rate_data = [sat_json[v] for v in sat1.tolist()]
    unsat_note = [UNSATISFIED_NOTES[p[2] % 2] for p in pk]
    rate_note = [unsat_note[i] if unsat1[i] else "" for i in range(n)]
    add(normal & rated1, Action.RATE, t_rate, State.CLOSED, State.CLOSED, data=rate_data,
        label=rater, note=rate_note)  # fmt: skip
    add(reopen, Action.REOPEN, t_reopen, State.CLOSED, State.REOPENED, label=rater,
        note=unsat_note, data=_dumps({"back_to": None}))  # fmt: skip
    add(full & reopen, Action.START, t_start2, State.REOPENED, State.IN_PROGRESS, label=handler)
    add(reopen, Action.REPLY, t_reply2, State.IN_PROGRESS, State.REPLIED, label=handler,
        note=reply2)  # fmt: skip
    add(full & reopen, Action.VERIFY, t_verify2, State.REPLIED, State.VERIFIED, label=verifier)
    o2 = [outcome_json[o] for o in outcome2.tolist()]
    add(reopen, Action.CLOSE, t_close2, State.VERIFIED, State.CLOSED, data=o2)
    s2 = [sat_json[v] for v in sat2.tolist()]
    add(rated2, Action.RATE, t_rate2, State.CLOSED, State.CLOSED, data=s2, label=rater)
    add(overdue, Action.OVERDUE, final_resolve_due, "", "", note="已超过办结时限", label="系统",
        moves=False)  # fmt: skip

    # The case rows.
    valid_resp = by(t_resp)
    now_s = np.full(n, end_s)
    last_change = np.minimum(np.maximum.reduce([t0, np.where(closed_valid, closed_at, t0)]), now_s)
    dup_of = [int(ids[o]) if dup[i] else None for i, o in enumerate(orig.tolist())]
    cat_id = ctx.cat_ids[cat].tolist()
    b_id = ctx.b_id[bld].tolist()
    lat = ctx.b_lat[bld].tolist()
    lng = ctx.b_lng[bld].tolist()
    gid = ctx.grid_ids[g].tolist()
    comm = ctx.grid_comm[g].tolist()
    street = ctx.grid_street[g].tolist()
    addr = [f"市北区{place[i]}" for i in range(n)]
    cols = [
        ids.tolist(), number, ch_value, cat_id, titles, descs, addr, lat, lng, gid, comm, street,
        b_id, rep_name, phone, anonymous.tolist(), [True] * n, external, state.tolist(),
        [MODE_VALUES[m] for m in mode_l], level.tolist(),
        [d or None for d in np.where(dispatched & by(t_disp), lead, 0).tolist()],
        ts(t0), ts(response_due), ts(final_resolve_due), ts(t_resp, valid_resp),
        ts(replied_at, replied_valid), ts(closed_at, closed_valid), overdue.tolist(),
        overdue.tolist(), reply_text, out_l, outcome_note, transferred, sat.tolist(),
        second.astype(int).tolist(), dup_of, version.tolist(), ts(last_change),
    ]  # fmt: skip
    cases = list(zip(*cols, strict=True))

    # Assignments of dispatched cases.
    rows = []
    chk_due = clock.add(t_disp, resp_h * 3600)
    sel = np.flatnonzero(normal & dispatched & by(t_disp))
    if len(sel):
        created = ts(t_disp[sel])
        due = ts(chk_due[sel])
        checked = ts(np.where(whistle, t_chk, t_disp)[sel])
        done_at = ts(closed_at[sel])
        part_at = ts(t_part[sel])
        for j, i in enumerate(sel.tolist()):
            checked_in = not whistle[i] or t_chk[i] <= end_s
            if is_closed[i]:
                status, done = Assignment.Status.DONE.value, done_at[j]
            else:
                status = "checked_in" if checked_in else "pending"
                done = None
            rows.append(
                (int(ids[i]), lead_l[i], "lead", status, due[j] if whistle[i] else None,
                 checked[j] if checked_in else None, done, "", "", created[j])
            )  # fmt: skip
            if assist_l[i]:
                part = t_part[i] <= end_s
                a_status = "done" if part else ("checked_in" if checked_in else "pending")
                rows.append(
                    (int(ids[i]), assist_l[i], "assist", a_status, due[j],
                     checked[j] if checked_in else None, part_at[j] if part else None,
                     "已配合完成现场处置" if part else "", "", created[j])
                )  # fmt: skip

    # The day counters continue after what was generated.
    touched = [(days[i], int(dcount[i] + offset[i])) for i in range(len(days)) if dcount[i]]
    return cases, events, rows, touched, n
