"""Cases: whatever anyone raises, from report to honest closure, with every change an event."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .states import Action, Channel, Level, Mode, Outcome, Satisfaction, State


class Category(models.Model):
    """A two-level taxonomy (市容环境 › 占道经营). Each leaf carries how its cases are handled."""

    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    default_mode = models.CharField(
        _("默认办理方式"), max_length=12, choices=Mode.choices, default=Mode.ASSIGNED
    )
    department = models.ForeignKey(
        "org.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="categories",
        verbose_name=_("主责部门"),
    )
    # Street-level unit kind that owns it instead (e.g. the street's law-enforcement squad).
    street_unit_suffix = models.CharField(_("街道主责单位编码后缀"), max_length=8, blank=True)
    response_hours = models.FloatField(_("响应时限 (小时)"), default=2)
    resolve_hours = models.FloatField(_("办结时限 (小时)"), default=40)
    working_hours = models.BooleanField(_("按工作时间计"), default=True)
    duplicate_radius_m = models.PositiveIntegerField(_("重复件判定半径 (米)"), default=100)
    is_active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("事件类别")
        verbose_name_plural = _("事件类别")
        ordering = ["order", "code"]

    def __str__(self):
        return f"{self.parent.name} › {self.name}" if self.parent_id else self.name


class ReplyTemplate(models.Model):
    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, null=True, blank=True, related_name="templates"
    )
    title = models.CharField(_("标题"), max_length=60)
    text = models.TextField(_("答复模板"))

    class Meta:
        verbose_name = _("答复模板")
        verbose_name_plural = _("答复模板")

    def __str__(self):
        return self.title


class CalendarDay(models.Model):
    """A holiday on a weekday, or a make-up working day (调休) on a weekend."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("调休上班"), default=False)
    name = models.CharField(_("名称"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.name}"


class DailySequence(models.Model):
    """Case numbers count per day: SB20261130-000042."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.day} #{self.last}"


class Case(models.Model):
    number = models.CharField(_("编号"), max_length=24, unique=True)
    channel = models.CharField(_("来源"), max_length=16, choices=Channel.choices)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="cases")
    title = models.CharField(_("标题"), max_length=120)
    description = models.TextField(_("描述"), max_length=4000, blank=True)
    # Where: an address and/or a point, resolved to exactly one grid.
    address = models.CharField(_("地址"), max_length=300, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    grid = models.ForeignKey("org.Grid", on_delete=models.PROTECT, related_name="cases")
    # Copied from the grid so scope filters and roll-ups need no join.
    community = models.ForeignKey("org.Community", on_delete=models.PROTECT, related_name="+")
    street = models.ForeignKey("org.Street", on_delete=models.PROTECT, related_name="+")
    building = models.ForeignKey(
        "org.Building", on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    # Who raised it. Contact details are private: only handlers with the right see them.
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reported_cases",
    )
    reporter_name = models.CharField(_("反映人"), max_length=40, blank=True)
    reporter_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    anonymous = models.BooleanField(_("匿名"), default=False)
    wants_reply = models.BooleanField(_("需要答复"), default=True)
    external_id = models.CharField(_("外部编号"), max_length=64, blank=True)

    state = models.CharField(
        _("状态"), max_length=16, choices=State.choices, default=State.REPORTED
    )
    mode = models.CharField(_("办理方式"), max_length=12, choices=Mode.choices)
    level = models.CharField(_("当前层级"), max_length=12, choices=Level.choices)
    department = models.ForeignKey(
        "org.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lead_cases",
        verbose_name=_("主办部门"),
    )
    # The leader who took it personally (领办) or to whom it was escalated (顶格办).
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_cases",
    )
    reported_at = models.DateTimeField(_("上报时间"), db_index=True)
    response_due = models.DateTimeField(_("响应时限"), null=True, blank=True)
    resolve_due = models.DateTimeField(_("办结时限"), null=True, blank=True)
    responded_at = models.DateTimeField(_("响应时间"), null=True, blank=True)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True, db_index=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    is_overdue = models.BooleanField(_("超期"), default=False)
    warned = models.BooleanField(default=False)
    reply = models.TextField(_("答复内容"), blank=True)
    outcome = models.CharField(_("办结结果"), max_length=12, choices=Outcome.choices, blank=True)
    outcome_note = models.CharField(_("结果说明"), max_length=500, blank=True)
    transferred_to = models.CharField(_("移交单位"), max_length=100, blank=True)
    satisfaction = models.CharField(
        _("满意度"), max_length=12, choices=Satisfaction.choices, blank=True
    )
    reopen_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="duplicates"
    )
    idempotency_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    # Optimistic lock: every change bumps it; a change made against an older version loses.
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("事件")
        verbose_name_plural = _("事件")
        indexes = [
            models.Index(fields=["state", "level", "street"], name="case_desk_idx"),
            models.Index(fields=["grid", "reported_at"], name="case_grid_time_idx"),
            # Desk queues filter by node and state; without these SQLite walks every case of
            # a street before looking at the state (bench/cases.py: 4.4 s → 61 ms p95).
            models.Index(fields=["street", "state"], name="case_street_state_idx"),
            models.Index(fields=["community", "state"], name="case_community_state_idx"),
            models.Index(fields=["grid", "state"], name="case_grid_state_idx"),
            models.Index(fields=["category", "state"], name="case_category_state_idx"),
            models.Index(
                fields=["resolve_due"],
                name="case_open_due_idx",
                condition=~Q(state__in=["closed", "rejected"]),
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        from .states import OPEN_STATES

        return self.state in OPEN_STATES


class CaseEvent(models.Model):
    """Append-only: the case row is what its events add up to."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=16, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("操作人"), max_length=80, blank=True)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"], name="case_event_case_idx")]

    def __str__(self):
        return f"{self.case_id} {self.action} {self.created_at:%Y-%m-%d %H:%M}"


class Assignment(models.Model):
    """A department's part of a case: the lead of 分办/联办 or a co-handler (协办) of 联办; for
    吹哨报到 each summoned department must check in (报到) by its deadline."""

    class Role(models.TextChoices):
        LEAD = "lead", _("主办")
        ASSIST = "assist", _("协办")

    class Status(models.TextChoices):
        PENDING = "pending", _("待报到")
        CHECKED_IN = "checked_in", _("已报到")
        DONE = "done", _("已完成")
        RETURNED = "returned", _("已退单")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    department = models.ForeignKey(
        "org.Department", on_delete=models.PROTECT, related_name="assignments"
    )
    role = models.CharField(_("角色"), max_length=8, choices=Role.choices)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    checkin_due = models.DateTimeField(_("报到时限"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("报到时间"), null=True, blank=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    report = models.TextField(_("办理情况"), blank=True)
    return_reason = models.CharField(_("退单理由"), max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("派单")
        verbose_name_plural = _("派单")
        indexes = [models.Index(fields=["department", "status"], name="assignment_desk_idx")]

    def __str__(self):
        return f"{self.case_id} → {self.department_id} ({self.role})"


class Follower(models.Model):
    """Everyone who hears a case's outcome: its reporter, and reporters of merged duplicates."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="followers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="follower_unique")]

    def __str__(self):
        return f"{self.user_id} follows {self.case_id}"


class Attachment(models.Model):
    class Kind(models.TextChoices):
        BEFORE = "before", _("现场照片")
        AFTER = "after", _("处置后照片")
        DOCUMENT = "document", _("材料")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(
        CaseEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.BEFORE)
    file = models.FileField(upload_to="cases/%Y/%m/")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    exif_lat = models.FloatField(null=True, blank=True)
    exif_lng = models.FloatField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self):
        return f"{self.case_id} {self.get_kind_display()}"


class MutualRating(models.Model):
    """吹哨报到's two-way evaluation: the street rates each department's response; the
    department rates the dispatch."""

    class Direction(models.TextChoices):
        DESK_RATES_DEPARTMENT = "desk_dept", _("街道/社区评部门")
        DEPARTMENT_RATES_DESK = "dept_desk", _("部门评派单")

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="ratings")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    score = models.PositiveSmallIntegerField(_("评分 (1-5)"))
    note = models.CharField(_("评语"), max_length=300, blank=True)
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "direction"], name="one_rating_per_direction"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"
            ),
        ]

    def __str__(self):
        return f"{self.assignment_id} {self.direction} {self.score}"


class Notification(models.Model):
    """In-app notices; other transports (e-mail, SMS) send copies."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, null=True, related_name="+")
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread_idx")]

    def __str__(self):
        return self.text


class WallPost(models.Model):
    """回音壁: a closed case's anonymised summary and the unit's reply, published after review."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("待审核")
        PUBLISHED = "published", _("已发布")
        WITHDRAWN = "withdrawn", _("未通过")

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="wall_post")
    headline = models.CharField(_("标题"), max_length=120)
    summary = models.TextField(_("市民反映 (已脱敏)"))
    reply_unit = models.CharField(_("答复单位"), max_length=80)
    reply = models.TextField(_("答复"))
    street = models.ForeignKey("org.Street", on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("回音壁")
        verbose_name_plural = _("回音壁")
        ordering = ["-published_at"]

    def __str__(self):
        return self.headline
