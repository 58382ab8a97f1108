"""Writes of the brain app: the rubric, monthly star evaluation and its publication, and the
roll-up rebuild. Only district-level actors (or the system, actor=None) may change them."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.org.selectors import scope_for

from . import stars
from .models import LOWER_IS_BETTER, Indicator, Rubric, RubricItem, StarRating
from .rollup import rollup_rebuild


def _district_only(actor) -> None:
    if actor is not None and not scope_for(actor).everything:
        raise PermissionDenied(_("仅区级用户可以执行此操作"))


def _check_items(items: list[dict]) -> list[tuple[str, float, list[float]]]:
    if not items:
        raise ValidationError({"items": [_("至少需要一个指标")]})
    seen, out = set(), []
    for i, item in enumerate(items):
        indicator = item.get("indicator")
        if indicator not in Indicator.values:
            raise ValidationError({f"items.{i}.indicator": [_("未知指标:%s") % indicator]})
        if indicator in seen:
            raise ValidationError({f"items.{i}.indicator": [_("指标重复:%s") % indicator]})
        seen.add(indicator)
        try:
            weight = float(item.get("weight"))
        except (TypeError, ValueError):
            weight = -1
        if not weight > 0:
            raise ValidationError({f"items.{i}.weight": [_("权重应为正数")]})
        thresholds = item.get("thresholds")
        try:
            thresholds = [float(t) for t in thresholds]
        except (TypeError, ValueError):
            thresholds = []
        if len(thresholds) != 4:
            raise ValidationError({f"items.{i}.thresholds": [_("阈值应为 4 个数")]})
        lower = indicator in LOWER_IS_BETTER
        ordered = sorted(thresholds, reverse=lower)
        if thresholds != ordered:
            message = _("阈值应从低到高排列") if not lower else _("该指标越低越好,阈值应从高到低")
            raise ValidationError({f"items.{i}.thresholds": [message]})
        out.append((indicator, weight, thresholds))
    return out


def rubric_save(*, actor, name: str, items: list[dict], activate: bool = True) -> Rubric:
    """Saves a new rubric version (ratings already made keep pointing at theirs) and, by
    default, makes it the one monthly evaluation uses."""
    _district_only(actor)
    if not (name or "").strip():
        raise ValidationError({"name": [_("请填写名称")]})
    checked = _check_items(items)
    with transaction.atomic():
        if activate:
            Rubric.objects.filter(is_active=True).update(is_active=False)
        rubric = Rubric.objects.create(
            name=name.strip()[:60],
            is_active=activate,
            updated_by=actor if actor is not None and actor.is_authenticated else None,
        )
        RubricItem.objects.bulk_create(
            [RubricItem(rubric=rubric, indicator=i, weight=w, thresholds=t) for i, w, t in checked]
        )
    return rubric


def rubric_default(*, actor) -> Rubric:
    """The active rubric, creating the default one when there is none."""
    rubric = Rubric.objects.filter(is_active=True).order_by("-id").first()
    if rubric is not None:
        return rubric
    return rubric_save(
        actor=actor,
        name="星级网格评定细则 (默认)",
        items=[
            {"indicator": str(i), "weight": w, "thresholds": t} for i, w, t in stars.DEFAULT_RUBRIC
        ],
    )


def rubric_items(rubric: Rubric) -> list[tuple[str, float, list[float]]]:
    return [(it.indicator, it.weight, list(it.thresholds)) for it in rubric.items.order_by("id")]


def stars_evaluate(*, actor, month: date, rubric: Rubric | None = None) -> int:
    """Rates every grid with data for the month against the rubric (the active one by
    default), replacing that month's unpublished ratings. A published month is final."""
    _district_only(actor)
    month = month.replace(day=1)
    if month > timezone.localdate().replace(day=1):
        raise ValidationError({"month": [_("不能评定未来的月份")]})
    if StarRating.objects.filter(month=month, published_at__isnull=False).exists():
        raise ValidationError({"month": [_("该月评定已发布,不能重新评定")]})
    rubric = rubric or rubric_default(actor=actor)
    results = stars.evaluate(rubric_items(rubric), month)
    now = timezone.now()
    with transaction.atomic():
        StarRating.objects.filter(month=month).delete()
        StarRating.objects.bulk_create(
            [
                StarRating(
                    grid_id=r["grid_id"],
                    community_id=r["community_id"],
                    street_id=r["street_id"],
                    month=month,
                    rubric=rubric,
                    stars=r["stars"],
                    score=r["score"],
                    breakdown=r["breakdown"],
                    rank_community=r["rank_community"],
                    rank_street=r["rank_street"],
                    rank_district=r["rank_district"],
                    evaluated_at=now,
                )
                for r in results
            ],
            batch_size=1000,
        )
    return len(results)


def stars_publish(*, actor, month: date) -> int:
    """Publishes a month's ratings (the 星级网格 list everyone in scope may see)."""
    _district_only(actor)
    month = month.replace(day=1)
    n = StarRating.objects.filter(month=month, published_at__isnull=True).update(
        published_at=timezone.now()
    )
    if not n and not StarRating.objects.filter(month=month).exists():
        raise ValidationError({"month": [_("该月尚未评定")]})
    return n


def figures_rebuild(*, actor, progress=None) -> int:
    """Recounts every roll-up from the cases (see rollup.rollup_rebuild)."""
    _district_only(actor)
    return rollup_rebuild(progress=progress)
