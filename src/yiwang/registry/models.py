"""The governance elements (人、地、物、组织): residents, households, houses, places and
organisations, each landing in one grid; the managed tag list; import sources with their
column mappings; and the append-only access log of personal-data reads (PIPL)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AddressStatus(models.TextChoices):
    RESOLVED = "resolved", _("已定位")
    NEEDS_ADDRESS = "needs_address", _("待补地址")


class Element(models.Model):
    """What every element shares: a free-text address, the building and grid it resolved to
    (null grid = the "needs address" queue), who entered it, and archiving instead of deleting."""

    address = models.CharField(_("地址"), max_length=200, blank=True)
    building = models.ForeignKey(
        "org.Building", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    grid = models.ForeignKey(
        "org.Grid", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    address_status = models.CharField(
        _("定位状态"),
        max_length=16,
        choices=AddressStatus.choices,
        default=AddressStatus.NEEDS_ADDRESS,
    )
    address_message = models.CharField(_("定位说明"), max_length=200, blank=True)
    # Not indexed: read only with grid IS NULL (the small "needs address" queue).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(_("归档时间"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Tag(models.Model):
    """特殊关怀标签: a managed list (独居老人, 高龄, 残疾, 低保 …), not free text."""

    code = models.SlugField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=20, unique=True)
    sort = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("关怀标签")
        verbose_name_plural = _("关怀标签")
        ordering = ["sort", "id"]

    def __str__(self):
        return self.name


class House(Element):
    """房屋: one room of a building."""

    class Use(models.TextChoices):
        RESIDENTIAL = "residential", _("住宅")
        COMMERCIAL = "commercial", _("商用")
        OFFICE = "office", _("办公")
        MIXED = "mixed", _("商住两用")
        OTHER = "other", _("其他")

    class Occupancy(models.TextChoices):
        OWNER = "owner", _("自住")
        TENANT = "tenant", _("出租")
        VACANT = "vacant", _("空置")
        UNKNOWN = "unknown", _("未知")

    unit = models.CharField(_("单元"), max_length=10, blank=True)
    room = models.CharField(_("室"), max_length=16, blank=True)
    area_m2 = models.FloatField(_("面积 (平方米)"), null=True, blank=True)
    use = models.CharField(_("用途"), max_length=12, choices=Use.choices, default=Use.RESIDENTIAL)
    occupancy = models.CharField(
        _("居住状态"), max_length=8, choices=Occupancy.choices, default=Occupancy.UNKNOWN
    )
    owner_name = models.CharField(_("产权人"), max_length=40, blank=True)
    tenant_name = models.CharField(_("承租人"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("房屋")
        verbose_name_plural = _("房屋")
        ordering = ["building_id", "unit", "room"]
        constraints = [
            models.UniqueConstraint(
                fields=["building", "unit", "room"],
                condition=Q(archived_at__isnull=True, building__isnull=False),
                name="house_room_unique",
            ),
        ]

    def __str__(self):
        unit = f"{self.unit}单元" if self.unit else ""
        return f"{self.address or ''}{unit}{self.room}"


class Household(Element):
    """户: a head and members (each member's relation on the Resident row), living in a house."""

    number = models.CharField(_("户号"), max_length=32, blank=True)
    head = models.ForeignKey(
        "Resident", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    house = models.ForeignKey(
        House, on_delete=models.SET_NULL, null=True, blank=True, related_name="households"
    )

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")
        constraints = [
            models.UniqueConstraint(
                fields=["number"],
                condition=Q(archived_at__isnull=True) & ~Q(number=""),
                name="household_number_unique",
            ),
        ]

    def __str__(self):
        return self.number or f"#{self.pk}"


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")
    UNKNOWN = "", _("未知")


class ResidenceType(models.TextChoices):
    REGISTERED = "registered", _("户籍")
    PERMANENT = "permanent", _("常住")
    FLOATING = "floating", _("流动")


class Resident(Element):
    """人: one person, one record however many source systems know them (互联互通)."""

    name = models.CharField(_("姓名"), max_length=40)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    # 18 characters, upper-case X; empty when unknown. Unique among active residents: import
    # matching is an exact lookup on this column.
    id_number = models.CharField(_("身份证号"), max_length=18, blank=True)
    phones = models.JSONField(_("联系电话"), default=list, blank=True)
    household = models.ForeignKey(
        Household, on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )
    relation_to_head = models.CharField(_("与户主关系"), max_length=16, blank=True)
    house = models.ForeignKey(
        House, on_delete=models.SET_NULL, null=True, blank=True, related_name="residents"
    )
    residence_type = models.CharField(
        _("人口类型"),
        max_length=12,
        choices=ResidenceType.choices,
        default=ResidenceType.PERMANENT,
    )
    hukou_address = models.CharField(_("户籍地"), max_length=200, blank=True)
    ethnic_group = models.CharField(_("民族"), max_length=12, blank=True)
    is_party_member = models.BooleanField(_("党员"), default=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="residents")
    workplace = models.CharField(_("工作单位"), max_length=100, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    # Which source systems know this person, and which source set each field last.
    sources = models.JSONField(_("数据来源"), default=list, blank=True)
    field_sources = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("居民")
        verbose_name_plural = _("居民")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["name", "birth_date"], name="resident_name_birth"),
            models.Index(fields=["birth_date"], name="resident_birth"),
            # People known without an ID number, the few an ID-carrying import row may be
            # (the importer's match by name + birth date): small, so cheap to keep.
            models.Index(
                fields=["name", "birth_date"],
                condition=Q(id_number="", archived_at__isnull=True),
                name="resident_no_id_name_birth",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number"],
                condition=Q(archived_at__isnull=True) & ~Q(id_number=""),
                name="resident_id_number_unique",
            ),
        ]

    def __str__(self):
        return self.name


class ResidentLink(models.Model):
    """A person linked to a department's work (e.g. a case dispatched to it). Department staff
    see only residents linked to their department; the cases app writes these rows."""

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="links")
    department = models.ForeignKey(
        "org.Department", on_delete=models.CASCADE, related_name="resident_links"
    )
    ref = models.CharField(_("关联事项"), max_length=64, help_text=_("如案件编号"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("居民关联")
        verbose_name_plural = _("居民关联")
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "department", "ref"], name="resident_link_unique"
            ),
        ]

    def __str__(self):
        return f"{self.resident_id} → {self.department_id} ({self.ref})"


class Place(Element):
    """地: shops, markets, schools, parks, roads and back alleys, facilities."""

    class Kind(models.TextChoices):
        SHOP = "shop", _("商铺")
        FARMERS_MARKET = "farmers_market", _("农贸市场")
        SMALL_COMMODITY_MARKET = "small_commodity_market", _("小商品市场")
        SCHOOL = "school", _("学校")
        PARK = "park", _("公园")
        ROAD = "road", _("道路")
        BACK_ALLEY = "back_alley", _("背街小巷")
        FACILITY = "facility", _("设施")
        OTHER = "other", _("其他")

    kind = models.CharField(_("类型"), max_length=24, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100)
    contact_name = models.CharField(_("联系人"), max_length=40, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("场所")
        verbose_name_plural = _("场所")
        ordering = ["id"]

    def __str__(self):
        return self.name


class Organization(Element):
    """组织: enterprises, social and party organisations, volunteer teams, property companies."""

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("企业")
        SOCIAL = "social", _("社会组织")
        PARTY = "party", _("党组织")
        VOLUNTEER_TEAM = "volunteer_team", _("志愿服务队")
        PROPERTY_COMPANY = "property_company", _("物业公司")

    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=40, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("组织")
        verbose_name_plural = _("组织")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=Q(archived_at__isnull=True) & ~Q(credit_code=""),
                name="organization_credit_code_unique",
            ),
        ]

    def __str__(self):
        return self.name


class ImportSource(models.Model):
    """A source system or ledger (台账) that residents are imported from, with the column
    mapping (spreadsheet header → field) saved so the next file from it maps the same way."""

    name = models.SlugField(_("来源编码"), max_length=40, unique=True)
    label = models.CharField(_("来源名称"), max_length=60, blank=True)
    column_map = models.JSONField(_("列映射"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("数据来源")
        verbose_name_plural = _("数据来源")

    def __str__(self):
        return self.label or self.name


class AccessLogError(RuntimeError):
    pass


class AccessLog(models.Model):
    """One row per read of personal data (list, search, detail, reveal, export, import).
    Append-only: rows are never changed or deleted through the application."""

    class Action(models.TextChoices):
        LIST = "list", _("列表")
        SEARCH = "search", _("搜索")
        VIEW = "view", _("查看详情")
        REVEAL = "reveal", _("查看明文")
        EXPORT = "export", _("导出")
        IMPORT = "import", _("导入")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    actor_name = models.CharField(_("操作人"), max_length=150)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    action = models.CharField(_("操作"), max_length=8, choices=Action.choices)
    purpose = models.CharField(_("用途"), max_length=24)
    reason = models.CharField(_("事由"), max_length=200, blank=True)
    filter = models.JSONField(_("查询条件"), default=dict, blank=True)
    record_count = models.PositiveIntegerField(_("记录数"), default=0)
    object_type = models.CharField(max_length=24, blank=True)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    channel = models.CharField(_("渠道"), max_length=8, default="api")

    class Meta:
        verbose_name = _("个人信息访问日志")
        verbose_name_plural = _("个人信息访问日志")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["actor", "at"], name="accesslog_actor_at")]

    def __str__(self):
        return f"{self.actor_name} {self.action} {self.record_count}"

    def save(self, *args, **kwargs):
        # The log is evidence: an existing row must never change.
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AccessLogError("access log rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AccessLogError("access log rows are append-only")


class ImportJob(models.Model):
    """One residents import run in the background: the uploaded file (kept under the var
    directory until the job ends), how far the importer got, and its report. A job in an active
    state whose heartbeat stops is shown as failed (jobs.import_job_reap). A person has at most
    one active job: the database holds to it even when two uploads arrive at once."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("进行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")
        CANCELLED = "cancelled", _("已取消")

    ACTIVE_STATES = frozenset({Status.QUEUED, Status.RUNNING})
    FINISHED_STATES = frozenset({Status.DONE, Status.FAILED, Status.CANCELLED})

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(_("数据来源"), max_length=40, default="import")
    commit = models.BooleanField(_("写入"), default=False)
    file_name = models.CharField(_("文件名"), max_length=255)
    # Where the upload is kept while the job runs; emptied once the file is deleted.
    file_path = models.CharField(max_length=500, blank=True)
    file_size = models.PositiveBigIntegerField(_("文件大小"), default=0)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.QUEUED
    )
    done_rows = models.PositiveBigIntegerField(_("已处理行数"), default=0)
    total_rows = models.PositiveBigIntegerField(_("总行数"), default=0)
    report = models.JSONField(_("导入报告"), null=True, blank=True)
    # Why a job ended without its report: the failure, or what a cancel left behind.
    error = models.TextField(_("错误"), blank=True)
    # Set by jobs.import_job_cancel on a running job; its runner stops at the next batch.
    cancel_requested_at = models.DateTimeField(_("请求取消时间"), null=True, blank=True)
    # host:pid of the process running the job, for the admin.
    worker = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["actor", "-created_at"], name="importjob_actor_created"),
            models.Index(fields=["status"], name="importjob_status"),
        ]
        constraints = [
            # The "one active job per person" check in jobs.import_job_start reads before it
            # writes: two uploads at the same instant would both pass it without this.
            models.UniqueConstraint(
                fields=["actor"],
                condition=models.Q(status__in=["queued", "running"]),
                name="importjob_one_active_per_actor",
            ),
        ]

    def __str__(self):
        return f"{self.file_name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED_STATES
