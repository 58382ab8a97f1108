"""Channels that feed cases: Open311 client systems, the 12345 hotline, video/sensor events."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiClient(models.Model):
    """A client system allowed to POST to Open311 (a resident app, a FixMyStreet front end).
    Only the key's hash is stored."""

    name = models.CharField(_("名称"), max_length=80, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    rate_per_minute = models.PositiveIntegerField(_("每分钟请求上限"), default=600)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("接入系统")
        verbose_name_plural = _("接入系统")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class ServiceAttribute(models.Model):
    """Open311 service-definition attributes: extra questions a category asks."""

    class Datatype(models.TextChoices):
        STRING = "string", "string"
        NUMBER = "number", "number"
        DATETIME = "datetime", "datetime"
        TEXT = "text", "text"
        SINGLE = "singlevaluelist", "singlevaluelist"
        MULTI = "multivaluelist", "multivaluelist"

    category = models.ForeignKey(
        "cases.Category", on_delete=models.CASCADE, related_name="open311_attributes"
    )
    code = models.CharField(max_length=40)
    datatype = models.CharField(max_length=16, choices=Datatype.choices)
    required = models.BooleanField(default=False)
    variable = models.BooleanField(default=True)
    description = models.CharField(max_length=200)
    datatype_description = models.CharField(max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(default=1)
    values = models.JSONField(default=list, blank=True, help_text='[{"key": "...", "name": "..."}]')

    class Meta:
        verbose_name = _("服务属性 (Open311)")
        verbose_name_plural = _("服务属性 (Open311)")
        ordering = ["category", "order"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="attribute_code_unique")
        ]

    def __str__(self):
        return f"{self.category.code}.{self.code}"


class Open311Request(models.Model):
    """What an Open311 client sent beside the case: its token, attributes and account."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="open311")
    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="requests")
    token = models.CharField(max_length=40, unique=True)
    attributes = models.JSONField(default=dict, blank=True)
    account_id = models.CharField(max_length=80, blank=True)
    device_id = models.CharField(max_length=80, blank=True)
    email = models.CharField(max_length=120, blank=True)
    media_url = models.URLField(max_length=500, blank=True)

    def __str__(self):
        return self.token


class HotlineTicket(models.Model):
    """A 12345 call summary (来电摘要) and the case it became; idempotent on the ticket number."""

    ticket_no = models.CharField(_("工单编号"), max_length=40, unique=True)
    # Empty while the address could not be placed in a grid: the ticket waits, visible, for a
    # desk to give it an address; nothing the hotline sent is dropped.
    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="hotline"
    )
    address = models.CharField(_("地址"), max_length=300, blank=True)
    content = models.TextField(_("来电内容"), blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    problem = models.CharField(_("待处理原因"), max_length=300, blank=True)
    called_at = models.DateTimeField(_("来电时间"))
    caller = models.CharField(_("来电人"), max_length=40, blank=True)
    wants_reply = models.BooleanField(_("需要答复"), default=True)
    raw = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("12345工单")
        verbose_name_plural = _("12345工单")

    def __str__(self):
        return self.ticket_no


class Outbox(models.Model):
    """Replies owed to other systems; written in the reply's transaction, delivered by the
    worker with backoff until acknowledged, so nothing is lost while a receiver is down."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        FAILED = "failed", _("发送失败,重试中")
        DELIVERED = "delivered", _("已送达")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    target = models.CharField(_("目标"), max_length=20, default="hotline")
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("回复发件箱")
        verbose_name_plural = _("回复发件箱")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.target} {self.case_id} {self.status}"


class Camera(models.Model):
    """A video camera or sensor, at a place, hence in a grid."""

    camera_id = models.CharField(_("设备编号"), max_length=60, unique=True)
    name = models.CharField(_("点位名称"), max_length=100)
    lat = models.FloatField()
    lng = models.FloatField()
    grid = models.ForeignKey("org.Grid", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("监控点位")
        verbose_name_plural = _("监控点位")

    def __str__(self):
        return f"{self.name} ({self.camera_id})"


class EventType(models.Model):
    """Maps a video-analytics event type (e.g. "street_vending") to a case category."""

    code = models.CharField(max_length=60, unique=True)
    name = models.CharField(max_length=60)
    category = models.ForeignKey("cases.Category", on_delete=models.PROTECT, related_name="+")
    merge_window_minutes = models.PositiveIntegerField(_("合并时间窗 (分钟)"), default=120)

    class Meta:
        verbose_name = _("事件类型映射")
        verbose_name_plural = _("事件类型映射")

    def __str__(self):
        return f"{self.code} → {self.category}"


class VideoEvent(models.Model):
    event_id = models.CharField(max_length=80, unique=True)
    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="events")
    event_type = models.ForeignKey(EventType, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField()
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="video_events")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["camera", "event_type", "occurred_at"], name="video_merge_idx")
        ]

    def __str__(self):
        return self.event_id
