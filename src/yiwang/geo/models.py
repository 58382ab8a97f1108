"""The standard address base: roads and compounds (小区). Buildings live in org; together they
resolve "road + number + compound + building" to one building and its grid."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Road(models.Model):
    class Kind(models.TextChoices):
        MAIN = "main", _("主干道")
        SECONDARY = "secondary", _("次干道")
        BRANCH = "branch", _("支路")
        ALLEY = "alley", _("背街小巷")

    name = models.CharField(_("道路名称"), max_length=40, unique=True)
    kind = models.CharField(_("等级"), max_length=12, choices=Kind.choices, default=Kind.BRANCH)
    aliases = models.JSONField(_("别名"), default=list, blank=True)
    # The polyline, when known, as GeoJSON LineString coordinates ([lng, lat] pairs).
    line = models.JSONField(_("走向"), null=True, blank=True)

    class Meta:
        verbose_name = _("道路")
        verbose_name_plural = _("道路")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Compound(models.Model):
    """A residential compound (小区) or named courtyard, entered at a road and number."""

    name = models.CharField(_("小区名称"), max_length=60)
    aliases = models.JSONField(_("别名"), default=list, blank=True)
    road = models.ForeignKey(Road, on_delete=models.PROTECT, related_name="compounds")
    number = models.CharField(_("门牌号"), max_length=20)
    grid = models.ForeignKey("org.Grid", on_delete=models.PROTECT, related_name="compounds")

    class Meta:
        verbose_name = _("小区")
        verbose_name_plural = _("小区")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "road", "number"], name="compound_unique"),
        ]

    def __str__(self):
        return f"{self.name} ({self.road.name}{self.number}号)"
