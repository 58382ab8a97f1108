"""精准摸排: a search frozen into a call list, split among staff, each call's outcome kept."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Campaign(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("进行中")
        CLOSED = "closed", _("已结束")

    title = models.CharField(_("任务名称"), max_length=100)
    purpose = models.CharField(_("用途"), max_length=24)
    reason = models.CharField(_("事由"), max_length=200, blank=True)
    query = models.CharField(_("检索条件"), max_length=200)
    filters = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    deadline = models.DateTimeField(_("完成时限"), null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("摸排任务")
        verbose_name_plural = _("摸排任务")
        ordering = ["-created_at"]

    def __str__(self):
        return self.title


class Outcome(models.TextChoices):
    REACHED = "reached", _("已联系")
    NOT_REACHED = "not_reached", _("未接通")
    WRONG_NUMBER = "wrong_number", _("号码错误")
    MOVED = "moved", _("已搬离")
    FOLLOW_UP = "follow_up", _("需跟进")


# Outcomes that end a call task; 未接通 keeps it open for another try.
FINAL_OUTCOMES = frozenset(
    {Outcome.REACHED, Outcome.WRONG_NUMBER, Outcome.MOVED, Outcome.FOLLOW_UP}
)


class CallTask(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tasks")
    resident = models.ForeignKey("registry.Resident", on_delete=models.PROTECT, related_name="+")
    grid = models.ForeignKey("org.Grid", on_delete=models.PROTECT, null=True, related_name="+")
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    called_at = models.DateTimeField(null=True, blank=True)
    case_number = models.CharField(_("转事件编号"), max_length=24, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "resident"], name="one_call_per_person")
        ]
        indexes = [models.Index(fields=["campaign", "caller"], name="calltask_caller_idx")]

    def __str__(self):
        return f"{self.campaign_id}:{self.resident_id}"

    @property
    def done(self) -> bool:
        return self.outcome in FINAL_OUTCOMES
