"""The resource list and the demand list (资源清单 / 需求清单): providers of services, the demands
they meet, the offers between them, open calls (揭榜) for partner organisations, and the
service records that count who helped whom.

A demand is matched when one of its offers is accepted: the accepted offer is the match. The
demand row carries the matched provider too, so lists need no join, and a partial unique
constraint lets the database itself refuse a second accepted offer."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Service(models.Model):
    """The managed catalogue of services (上门理发, 助餐, 陪诊 …)."""

    code = models.CharField(_("编码"), max_length=16, unique=True)
    name = models.CharField(_("名称"), max_length=20, unique=True)
    default_hours = models.DecimalField(
        _("默认时长 (小时)"), max_digits=4, decimal_places=1, default=1
    )
    is_active = models.BooleanField(_("启用"), default=True)
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("服务项目")
        verbose_name_plural = _("服务项目")
        ordering = ["sort", "id"]

    def __str__(self):
        return self.name


class Partner(models.Model):
    """An organisation from the registry that has joined the platform: it may answer open calls
    and, as a red partner (红色合伙人), takes on governance tasks. Its members act for it."""

    organization = models.OneToOneField(
        "registry.Organization", on_delete=models.PROTECT, related_name="partner"
    )
    is_red_partner = models.BooleanField(_("红色合伙人"), default=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="partners", verbose_name=_("成员账号")
    )
    joined_at = models.DateTimeField(_("加入时间"), auto_now_add=True)
    archived_at = models.DateTimeField(_("退出时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("合作单位")
        verbose_name_plural = _("合作单位")
        ordering = ["id"]

    def __str__(self):
        return self.organization.name


class Provider(models.Model):
    """A volunteer, a service team or a partner organisation that offers services."""

    class Kind(models.TextChoices):
        VOLUNTEER = "volunteer", _("志愿者")
        TEAM = "team", _("志愿服务队")
        PARTNER = "partner", _("合作单位")

    class Verification(models.TextChoices):
        PENDING = "pending", _("待审核")
        VERIFIED = "verified", _("已认证")
        SUSPENDED = "suspended", _("已暂停")

    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=60)
    resident = models.ForeignKey(
        "registry.Resident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("居民"),
    )
    organization = models.ForeignKey(
        "registry.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("组织"),
    )
    # The account that answers offers on its phone.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="providers",
        verbose_name=_("账号"),
    )
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    services = models.ManyToManyField(Service, related_name="providers", verbose_name=_("服务项目"))
    home_grid = models.ForeignKey(
        "org.Grid",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("所在网格"),
    )
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    # Beyond the areas listed, serves anywhere within this distance of its point (0: only them).
    radius_m = models.PositiveIntegerField(_("服务半径 (米)"), default=0)
    capacity = models.PositiveSmallIntegerField(_("同时承接上限"), default=3)
    # Weekly availability: [[weekday 0=Monday, start minute, end minute], …], kept free of
    # overlaps by provider_set_slots; read as is by the ranking.
    slots = models.JSONField(_("每周服务时段"), default=list, blank=True)
    verification = models.CharField(
        _("审核状态"), max_length=12, choices=Verification.choices, default=Verification.PENDING
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    # Its record, kept by the services in the same transaction as each change.
    active_count = models.PositiveIntegerField(_("进行中"), default=0)
    completed_count = models.PositiveIntegerField(_("已完成"), default=0)
    hours_total = models.DecimalField(
        _("服务时长 (小时)"), max_digits=9, decimal_places=1, default=0
    )
    rating_sum = models.PositiveIntegerField(default=0)
    rating_count = models.PositiveIntegerField(_("评价次数"), default=0)
    notes = models.TextField(_("备注"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(_("归档时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("服务提供方")
        verbose_name_plural = _("服务提供方")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["verification", "archived_at"], name="provider_ready_idx"),
            # The ranking's bounding box over providers that serve by radius.
            models.Index(
                fields=["lat", "lng"], condition=Q(radius_m__gt=0), name="provider_radius_idx"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def rating(self) -> float | None:
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None


class ProviderArea(models.Model):
    """Where a provider serves: a whole street, a community or a grid (exactly one)."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="areas")
    street = models.ForeignKey("org.Street", on_delete=models.CASCADE, null=True, related_name="+")
    community = models.ForeignKey(
        "org.Community", on_delete=models.CASCADE, null=True, related_name="+"
    )
    grid = models.ForeignKey("org.Grid", on_delete=models.CASCADE, null=True, related_name="+")

    class Meta:
        verbose_name = _("服务范围")
        verbose_name_plural = _("服务范围")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(street__isnull=False, community__isnull=True, grid__isnull=True)
                    | Q(street__isnull=True, community__isnull=False, grid__isnull=True)
                    | Q(street__isnull=True, community__isnull=True, grid__isnull=False)
                ),
                name="provider_area_one_node",
            )
        ]

    def __str__(self):
        return f"{self.provider_id}: {self.grid_id or self.community_id or self.street_id}"


class ProviderAbsence(models.Model):
    """An exception to the weekly slots: the provider is away in this period."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="absences")
    starts_at = models.DateTimeField(_("开始"))
    ends_at = models.DateTimeField(_("结束"), db_index=True)
    note = models.CharField(_("说明"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("暂停服务")
        verbose_name_plural = _("暂停服务")
        ordering = ["starts_at"]

    def __str__(self):
        return f"{self.provider_id}: {self.starts_at:%Y-%m-%d}–{self.ends_at:%Y-%m-%d}"


class Demand(models.Model):
    """A need: who needs which service, when and where, and how it went."""

    class Status(models.TextChoices):
        OPEN = "open", _("待匹配")
        OFFERED = "offered", _("待接单")
        MATCHED = "matched", _("已接单")
        DONE = "done", _("已完成")
        CANCELLED = "cancelled", _("已取消")

    class Urgency(models.TextChoices):
        NORMAL = "normal", _("一般")
        URGENT = "urgent", _("紧急")

    class Channel(models.TextChoices):
        GRID_WORKER = "grid_worker", _("网格员走访")
        DESK = "desk", _("社区窗口")
        RESIDENT = "resident", _("居民自报")
        CASE = "case", _("事件转入")
        OUTREACH = "outreach", _("摸排转入")

    number = models.CharField(_("编号"), max_length=24, unique=True)
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="demands", verbose_name=_("服务项目")
    )
    # Who needs it: a resident, or a place or organisation.
    resident = models.ForeignKey(
        "registry.Resident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("服务对象"),
    )
    place = models.ForeignKey(
        "registry.Place", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    organization = models.ForeignKey(
        "registry.Organization", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    description = models.CharField(_("需求说明"), max_length=500, blank=True)
    window_start = models.DateTimeField(_("期望开始"))
    window_end = models.DateTimeField(_("期望结束"))
    address = models.CharField(_("服务地址"), max_length=200, blank=True)
    grid = models.ForeignKey("org.Grid", on_delete=models.PROTECT, related_name="+")
    # Copied from the grid so scope filters need no join.
    community = models.ForeignKey("org.Community", on_delete=models.PROTECT, related_name="+")
    street = models.ForeignKey("org.Street", on_delete=models.PROTECT, related_name="+")
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    urgency = models.CharField(
        _("紧急程度"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL
    )
    channel = models.CharField(
        _("来源"), max_length=12, choices=Channel.choices, default=Channel.GRID_WORKER
    )
    source_ref = models.CharField(_("来源编号"), max_length=40, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("发布时间"), auto_now_add=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    # When every offer is declined or expires, offer it to the next provider in the ranking.
    auto_next = models.BooleanField(_("无人接单时自动顺延"), default=True)
    # Why nobody could be offered it, from the last ranking (shown in the unmatched list).
    unmatched_reason = models.CharField(_("未匹配原因"), max_length=200, blank=True)
    provider = models.ForeignKey(
        Provider,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="demands",
        verbose_name=_("服务提供方"),
    )
    matched_at = models.DateTimeField(_("接单时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    completion_note = models.CharField(_("服务记录"), max_length=500, blank=True)
    photo = models.FileField(_("服务照片"), upload_to="matching/%Y/%m/", blank=True)
    hours = models.DecimalField(
        _("服务时长 (小时)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    rating = models.PositiveSmallIntegerField(_("评价"), null=True, blank=True)
    rating_note = models.CharField(_("评价说明"), max_length=200, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("需求")
        verbose_name_plural = _("需求")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["street", "status"], name="demand_street_idx"),
            models.Index(fields=["community", "status"], name="demand_community_idx"),
            models.Index(fields=["grid", "status"], name="demand_grid_idx"),
            models.Index(fields=["status", "window_end"], name="demand_status_due_idx"),
            models.Index(fields=["resident", "provider"], name="demand_resident_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_end__gt=models.F("window_start")), name="demand_window_order"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="demand_rating_scale",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def is_live(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.OFFERED, self.Status.MATCHED)


class Offer(models.Model):
    """A demand offered to one provider, with the ranking's score and reasons at that moment."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待答复")
        ACCEPTED = "accepted", _("已接单")
        DECLINED = "declined", _("已婉拒")
        EXPIRED = "expired", _("已超时")
        TAKEN = "taken", _("已由他人接单")
        WITHDRAWN = "withdrawn", _("已撤回")

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="offers")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="offers")
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    score = models.FloatField(_("匹配分"), default=0)
    reasons = models.JSONField(_("匹配理由"), default=list, blank=True)
    # Null when the platform moved on to the next provider by itself.
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("答复期限"))
    answered_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(_("婉拒原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("派单")
        verbose_name_plural = _("派单")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["provider", "status"], name="offer_provider_idx"),
            models.Index(fields=["status", "expires_at"], name="offer_expiry_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["demand", "provider"], name="offer_once_per_provider"),
            # The database's own word that a demand has at most one match.
            models.UniqueConstraint(
                fields=["demand"], condition=Q(status="accepted"), name="offer_one_match"
            ),
        ]

    def __str__(self):
        return f"{self.demand_id} → {self.provider_id} ({self.status})"


class OpenCall(models.Model):
    """揭榜: a governance task published by a unit for partners to take on."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("征集中")
        AWARDED = "awarded", _("已揭榜")
        DELIVERED = "delivered", _("已交付")
        EVALUATED = "evaluated", _("已评价")
        CANCELLED = "cancelled", _("已撤销")

    number = models.CharField(_("编号"), max_length=24, unique=True)
    title = models.CharField(_("任务名称"), max_length=100)
    description = models.TextField(_("任务内容"), max_length=4000)
    location = models.CharField(_("实施地点"), max_length=200, blank=True)
    # The publishing unit: a department, or a street / community (none: the district).
    department = models.ForeignKey(
        "org.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    street = models.ForeignKey(
        "org.Street", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    community = models.ForeignKey(
        "org.Community", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    budget = models.DecimalField(
        _("预算 (元)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    in_kind = models.CharField(_("非资金支持"), max_length=200, blank=True)
    criteria = models.TextField(_("揭榜条件"), max_length=2000, blank=True)
    apply_by = models.DateTimeField(_("报名截止"))
    deliver_by = models.DateField(_("交付期限"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("揭榜任务")
        verbose_name_plural = _("揭榜任务")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "apply_by"], name="opencall_status_idx")]

    def __str__(self):
        return self.title

    @property
    def unit_label(self) -> str:
        node = self.department or self.community or self.street
        return node.name if node else str(_("区级"))


class Application(models.Model):
    """A partner's proposal for an open call; the chosen ones deliver and are evaluated."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("已报名")
        CHOSEN = "chosen", _("已选定")
        NOT_CHOSEN = "not_chosen", _("未选定")
        WITHDRAWN = "withdrawn", _("已撤回")

    call = models.ForeignKey(OpenCall, on_delete=models.CASCADE, related_name="applications")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="applications")
    proposal = models.TextField(_("实施方案"), max_length=4000)
    amount = models.DecimalField(
        _("报价 (元)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.SUBMITTED
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)
    score = models.PositiveSmallIntegerField(_("评价"), null=True, blank=True)
    evaluation = models.CharField(_("评价意见"), max_length=500, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("揭榜报名")
        verbose_name_plural = _("揭榜报名")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["call", "partner"], name="application_once"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                name="application_score_scale",
            ),
        ]

    def __str__(self):
        return f"{self.call_id}: {self.partner_id}"


class Milestone(models.Model):
    """A delivery step of a chosen application, with the partner's evidence and the unit's
    acceptance."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="milestones"
    )
    title = models.CharField(_("节点"), max_length=100)
    due = models.DateField(_("计划完成"), null=True, blank=True)
    evidence = models.CharField(_("完成情况"), max_length=1000, blank=True)
    evidence_file = models.FileField(_("佐证材料"), upload_to="calls/%Y/%m/", blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(_("验收时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("交付节点")
        verbose_name_plural = _("交付节点")
        ordering = ["id"]

    def __str__(self):
        return self.title


class ServiceRecord(models.Model):
    """One piece of work done for people: a completed service, a closed case, a call made, a
    delivered open call. Summed per person, team, department and period ("服务 130 余人次")."""

    class Kind(models.TextChoices):
        SERVICE = "service", _("志愿服务")
        CASE = "case", _("事件办结")
        CALL = "call", _("摸排走访")
        OPEN_CALL = "open_call", _("揭榜交付")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    ref = models.CharField(_("关联编号"), max_length=40)
    at = models.DateTimeField(_("时间"), db_index=True)
    hours = models.DecimalField(_("时长 (小时)"), max_digits=6, decimal_places=1, default=0)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    provider = models.ForeignKey(Provider, on_delete=models.SET_NULL, null=True, related_name="+")
    department = models.ForeignKey(
        "org.Department", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    organization = models.ForeignKey(
        "registry.Organization", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Who was helped (people and families counted distinct).
    resident = models.ForeignKey(
        "registry.Resident", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    household = models.ForeignKey(
        "registry.Household", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    grid = models.ForeignKey("org.Grid", on_delete=models.SET_NULL, null=True, related_name="+")
    community = models.ForeignKey(
        "org.Community", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    street = models.ForeignKey("org.Street", on_delete=models.SET_NULL, null=True, related_name="+")

    class Meta:
        verbose_name = _("服务记录")
        verbose_name_plural = _("服务记录")
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "ref"], name="service_record_once"),
        ]
        indexes = [
            models.Index(fields=["user", "at"], name="record_user_idx"),
            models.Index(fields=["provider", "at"], name="record_provider_idx"),
            models.Index(fields=["department", "at"], name="record_department_idx"),
            models.Index(fields=["organization", "at"], name="record_org_idx"),
        ]

    def __str__(self):
        return f"{self.kind} {self.ref}"
