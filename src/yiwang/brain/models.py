"""The brains' figures: additive counts per grid, category and day (and the same per month, for
long ranges), the dirty-key queue that keeps them current, and the star-grid rubric and
ratings."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# The additive counts a roll-up row carries. Reported-day counts are keyed by the local day the
# case was reported; closed-day counts by the local day it was closed (办结). Every rate shown
# is a ratio of two of these (see figures.py).
REPORTED_COUNTS = (
    "reported",  # cases reported
    "accepted",  # of those, responded to at all (accepted, dispatched, started, checked in)
    "responded_on_time",  # responded to by the response deadline
    "taken_on",  # not rejected as invalid or duplicate (completion-rate denominator)
    "completed",  # closed (completion-rate numerator)
    "overdue",  # flagged overdue
    "top",  # handled as 顶格办
)
CLOSED_COUNTS = (
    "closed",
    "closed_on_time",
    "solved",
    "rated",
    "satisfied",  # 满意 or 基本满意
    "unsatisfied",
    "reopened",  # closed cases that were reopened at least once
)
COUNTS = REPORTED_COUNTS + CLOSED_COUNTS
# Sum of (closed_at - reported_at) over closed cases, in microseconds: exact, so averages
# over any range equal the direct average.
HANDLING = "handling_us"
ALL_FIGURES = (*COUNTS, HANDLING)


class Counts(models.Model):
    reported = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    responded_on_time = models.PositiveIntegerField(default=0)
    taken_on = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    top = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    closed_on_time = models.PositiveIntegerField(default=0)
    solved = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    unsatisfied = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    handling_us = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class FigureBase(Counts):
    grid = models.ForeignKey("org.Grid", on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey("cases.Category", on_delete=models.CASCADE, related_name="+")
    # Copied from the grid so a street's or community's figures need no join.
    community = models.ForeignKey("org.Community", on_delete=models.CASCADE, related_name="+")
    street = models.ForeignKey("org.Street", on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True


class DailyFigure(FigureBase):
    day = models.DateField(_("日期"))

    class Meta:
        verbose_name = _("日统计")
        verbose_name_plural = _("日统计")
        constraints = [
            models.UniqueConstraint(fields=["grid", "category", "day"], name="daily_figure_key")
        ]
        indexes = [
            models.Index(fields=["day", "street"], name="daily_day_street_idx"),
            models.Index(fields=["community", "day"], name="daily_community_day_idx"),
            models.Index(fields=["grid", "day"], name="daily_grid_day_idx"),
        ]

    def __str__(self):
        return f"{self.grid_id}/{self.category_id}/{self.day}"


class MonthlyFigure(FigureBase):
    """The sum of a month's DailyFigure rows for one grid and category: long ranges read a
    twelfth of the rows."""

    month = models.DateField(_("月份"))  # the first of the month

    class Meta:
        verbose_name = _("月统计")
        verbose_name_plural = _("月统计")
        constraints = [
            models.UniqueConstraint(fields=["grid", "category", "month"], name="monthly_figure_key")
        ]
        indexes = [
            models.Index(fields=["month", "street"], name="monthly_month_street_idx"),
            models.Index(fields=["community", "month"], name="monthly_community_month_idx"),
            models.Index(fields=["grid", "month"], name="monthly_grid_month_idx"),
        ]

    def __str__(self):
        return f"{self.grid_id}/{self.category_id}/{self.month:%Y-%m}"


class GridMonthFigure(Counts):
    """A grid's month over all categories (the sum of its MonthlyFigure rows): maps and trends
    over long ranges read ~940 rows a month instead of ~25,000."""

    grid = models.ForeignKey("org.Grid", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("org.Community", on_delete=models.CASCADE, related_name="+")
    street = models.ForeignKey("org.Street", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("月份"))

    class Meta:
        verbose_name = _("网格月统计")
        verbose_name_plural = _("网格月统计")
        constraints = [
            models.UniqueConstraint(fields=["grid", "month"], name="grid_month_figure_key")
        ]
        indexes = [models.Index(fields=["month", "street"], name="grid_month_month_street_idx")]

    def __str__(self):
        return f"{self.grid_id}/{self.month:%Y-%m}"


class StreetCategoryMonthFigure(Counts):
    """A street's month per category (the sum of its MonthlyFigure rows): category breakdowns
    of the district and of streets over long ranges."""

    street = models.ForeignKey("org.Street", on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey("cases.Category", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("月份"))

    class Meta:
        verbose_name = _("街道类别月统计")
        verbose_name_plural = _("街道类别月统计")
        constraints = [
            models.UniqueConstraint(
                fields=["street", "category", "month"], name="street_category_month_key"
            )
        ]
        indexes = [models.Index(fields=["month", "street"], name="street_cat_month_idx")]

    def __str__(self):
        return f"{self.street_id}/{self.category_id}/{self.month:%Y-%m}"


class GridDayFigure(Counts):
    """A grid's day over all categories (the sum of its DailyFigure rows): a month's map and
    trend read ~28,000 rows instead of ~100,000."""

    grid = models.ForeignKey("org.Grid", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("org.Community", on_delete=models.CASCADE, related_name="+")
    street = models.ForeignKey("org.Street", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("日期"))

    class Meta:
        verbose_name = _("网格日统计")
        verbose_name_plural = _("网格日统计")
        constraints = [models.UniqueConstraint(fields=["grid", "day"], name="grid_day_figure_key")]
        indexes = [
            models.Index(fields=["day", "street"], name="grid_day_day_street_idx"),
            models.Index(fields=["community", "day"], name="grid_day_community_day_idx"),
        ]

    def __str__(self):
        return f"{self.grid_id}/{self.day}"


class StreetCategoryDayFigure(Counts):
    """A street's day per category: the category breakdown of the district and of streets."""

    street = models.ForeignKey("org.Street", on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey("cases.Category", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("日期"))

    class Meta:
        verbose_name = _("街道类别日统计")
        verbose_name_plural = _("街道类别日统计")
        constraints = [
            models.UniqueConstraint(
                fields=["street", "category", "day"], name="street_category_day_key"
            )
        ]
        indexes = [models.Index(fields=["day", "street"], name="street_cat_day_idx")]

    def __str__(self):
        return f"{self.street_id}/{self.category_id}/{self.day}"


class DepartmentDayFigure(Counts):
    """A department's part in a community's cases on a day: each case counted once for every
    department with an assignment in it (as cases.rates.Where(department_id=…) counts), by the
    grid's community, so the department ranking of any street or the district is a sum."""

    department = models.ForeignKey("org.Department", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        "org.Community", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    street = models.ForeignKey(
        "org.Street", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField(_("日期"))

    class Meta:
        verbose_name = _("部门日统计")
        verbose_name_plural = _("部门日统计")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "day", "department"], name="department_day_key"
            )
        ]
        # A street reads its own days; the district every street's.
        indexes = [
            models.Index(fields=["day", "street"], name="department_day_street_idx"),
            models.Index(fields=["street", "day"], name="department_street_day_idx"),
        ]

    def __str__(self):
        return f"{self.department_id}/{self.community_id}/{self.day}"


class DepartmentMonthFigure(Counts):
    """The sum of a month's DepartmentDayFigure rows for one department and community."""

    department = models.ForeignKey("org.Department", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        "org.Community", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    street = models.ForeignKey(
        "org.Street", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    month = models.DateField(_("月份"))

    class Meta:
        verbose_name = _("部门月统计")
        verbose_name_plural = _("部门月统计")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "month", "department"], name="department_month_key"
            )
        ]
        indexes = [
            models.Index(fields=["month", "street"], name="department_month_street_idx"),
            models.Index(fields=["street", "month"], name="department_street_month_idx"),
        ]

    def __str__(self):
        return f"{self.department_id}/{self.community_id}/{self.month:%Y-%m}"


class PlaceMonthFigure(models.Model):
    """Cases reported in a local month at one address, of one category, in one grid: what the
    recurring-places list (高频重复点位) is read from."""

    # The unique key leads with the grid; the node reads use the composite indexes below.
    grid = models.ForeignKey("org.Grid", on_delete=models.CASCADE, related_name="+", db_index=False)
    community = models.ForeignKey(
        "org.Community", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    street = models.ForeignKey(
        "org.Street", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    category = models.ForeignKey("cases.Category", on_delete=models.CASCADE, related_name="+")
    address = models.CharField(_("地址"), max_length=300)
    month = models.DateField(_("月份"))
    reported = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("地点月统计")
        verbose_name_plural = _("地点月统计")
        constraints = [
            models.UniqueConstraint(
                fields=["grid", "category", "address", "month"], name="place_month_key"
            )
        ]
        indexes = [
            models.Index(fields=["month", "reported"], name="place_month_reported_idx"),
            models.Index(fields=["street", "month", "reported"], name="place_street_month_idx"),
            models.Index(
                fields=["community", "month", "reported"], name="place_community_month_idx"
            ),
        ]

    def __str__(self):
        return f"{self.address}/{self.category_id}/{self.month:%Y-%m}"


class DirtyKey(models.Model):
    """A (grid, category, day) whose figures must be recounted. Written by the case-event hook
    in the case's transaction; drained by the roll-up tick. Not unique: the drain deletes
    exactly the rows it read, so a key marked again meanwhile is never lost."""

    grid_id = models.IntegerField()
    category_id = models.IntegerField()
    day = models.DateField()

    def __str__(self):
        return f"{self.grid_id}/{self.category_id}/{self.day}"


class Indicator(models.TextChoices):
    COMPLETION_RATE = "completion_rate", _("办结率")
    ON_TIME_RATE = "on_time_rate", _("按期办结率")
    RESPONSE_RATE = "response_rate", _("及时响应率")
    SATISFACTION_RATE = "satisfaction_rate", _("满意率")
    SOLVED_RATE = "solved_rate", _("解决率")
    REOPEN_RATE = "reopen_rate", _("重办率")
    REPEAT_COMPLAINTS = "repeat_complaints", _("重复投诉")
    OVERDUE_RATE = "overdue_rate", _("超期率")
    DEMAND_MATCH_RATE = "demand_match_rate", _("需求匹配率")


# Indicators where less is better: their thresholds descend.
LOWER_IS_BETTER = frozenset(
    {Indicator.REOPEN_RATE, Indicator.REPEAT_COMPLAINTS, Indicator.OVERDUE_RATE}
)


class Rubric(models.Model):
    """星级网格 rubric: weighted indicators, each scored 1–5 against four thresholds."""

    name = models.CharField(_("名称"), max_length=60)
    is_active = models.BooleanField(_("当前使用"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("星级评定细则")
        verbose_name_plural = _("星级评定细则")

    def __str__(self):
        return self.name


class RubricItem(models.Model):
    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="items")
    indicator = models.CharField(_("指标"), max_length=24, choices=Indicator.choices)
    weight = models.FloatField(_("权重"))
    # Four values: meeting the first gives 2 points … all four give 5; none gives 1.
    thresholds = models.JSONField(_("阈值"))

    class Meta:
        verbose_name = _("评定指标")
        verbose_name_plural = _("评定指标")
        constraints = [
            models.UniqueConstraint(fields=["rubric", "indicator"], name="rubric_item_unique")
        ]

    def __str__(self):
        return f"{self.rubric_id} {self.indicator} ×{self.weight}"


class StarRating(models.Model):
    grid = models.ForeignKey("org.Grid", on_delete=models.CASCADE, related_name="star_ratings")
    community = models.ForeignKey("org.Community", on_delete=models.CASCADE, related_name="+")
    street = models.ForeignKey("org.Street", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(_("月份"))
    rubric = models.ForeignKey(Rubric, on_delete=models.PROTECT, related_name="ratings")
    stars = models.PositiveSmallIntegerField(_("星级"))
    score = models.FloatField(_("得分"))
    # indicator → {"value", "points", "weight"}: the per-indicator breakdown shown beside stars.
    breakdown = models.JSONField(default=dict)
    rank_community = models.PositiveIntegerField(_("社区内排名"))
    rank_street = models.PositiveIntegerField(_("街道内排名"))
    rank_district = models.PositiveIntegerField(_("全区排名"))
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    evaluated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("星级网格评定")
        verbose_name_plural = _("星级网格评定")
        constraints = [
            models.UniqueConstraint(fields=["grid", "month"], name="star_rating_grid_month"),
            models.CheckConstraint(
                condition=models.Q(stars__gte=1, stars__lte=5), name="star_rating_1_to_5"
            ),
        ]
        indexes = [models.Index(fields=["month", "rank_district"], name="star_month_rank_idx")]

    def __str__(self):
        return f"{self.grid_id} {self.month:%Y-%m} {self.stars}★"
