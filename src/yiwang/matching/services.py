"""Every change to the resource list, the demand list, offers, open calls and service records.
Keyword-only functions that take the acting user first; each check names the field it refuses."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.org.models import Community, Grid, Street
from yiwang.org.permissions import (
    MANAGE_MATCHING,
    PUBLISH_CALLS,
    VERIFY_PROVIDERS,
    has_permission,
    require_permission,
)
from yiwang.org.selectors import scope_for

from .errors import MatchConflict
from .models import (
    Application,
    Demand,
    Milestone,
    Offer,
    OpenCall,
    Partner,
    Provider,
    ProviderAbsence,
    ProviderArea,
    Service,
    ServiceRecord,
)
from .ranking import WEEKDAYS, fmt_slot, rank

# How long a provider has to answer an offer before it moves on.
OFFER_MINUTES = {Demand.Urgency.NORMAL: 240, Demand.Urgency.URGENT: 30}
MAX_WINDOW = timedelta(days=60)


def _covers_demand(actor, demand: Demand) -> bool:
    if actor is None:
        return True
    scope = scope_for(actor)
    return (
        scope.everything
        or demand.street_id in scope.street_ids
        or demand.community_id in scope.community_ids
        or demand.grid_id in scope.grid_ids
    )


def _desk_for(actor, demand: Demand) -> None:
    """Desk staff who may act on this demand: the right to manage matching, within scope."""
    require_permission(actor, MANAGE_MATCHING)
    if not _covers_demand(actor, demand):
        raise PermissionDenied("demand scope")


def _is_provider_user(actor, provider: Provider) -> bool:
    return actor is not None and provider.user_id is not None and provider.user_id == actor.id


# ---------------------------------------------------------------- providers

SLOT_RE = re.compile(
    r"^(周[一二三四五六日天]|mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?\s*(\d{1,2})[:：](\d{2})"
    r"\s*[-–~至]\s*(\d{1,2})[:：](\d{2})$",
    re.IGNORECASE,
)
DAY_INDEX = (
    {d: i for i, d in enumerate(WEEKDAYS)}
    | {"周天": 6}
    | {d: i for i, d in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))}
)


def slots_parse(text: str) -> list[list[int]]:
    """ "周一 09:00-12:00; 周三 14:00-17:00" → [[0, 540, 720], [2, 840, 1020]]. Each part that
    cannot be read is named in the error."""
    out = []
    for part in re.split(r"[;；,，\n]+", text or ""):
        part = part.strip()
        if not part:
            continue
        m = SLOT_RE.match(part)
        if not m:
            raise ValidationError(
                {"slots": [_("无法识别的时段“%(p)s”,格式如:周一 09:00-12:00") % {"p": part}]}
            )
        day, h1, m1, h2, m2 = m.groups()
        out.append([DAY_INDEX[day.lower()], int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)])
    return out


def slots_clean(slots) -> list[list[int]]:
    """Checks weekly slots: real days and times, start before end, no two overlapping."""
    clean = []
    for item in slots or []:
        try:
            day, a, b = (int(x) for x in item)
        except (TypeError, ValueError):
            raise ValidationError(
                {"slots": [_("时段格式应为 [星期, 开始分钟, 结束分钟]")]}
            ) from None
        if not (0 <= day <= 6 and 0 <= a < 1440 and 0 < b <= 1440):
            raise ValidationError({"slots": [_("时段超出一天的范围")]})
        if b <= a:
            raise ValidationError(
                {"slots": [_("%(slot)s:结束时间须晚于开始时间") % {"slot": fmt_slot(day, a, b)}]}
            )
        clean.append([day, a, b])
    clean.sort()
    for prev, cur in zip(clean, clean[1:], strict=False):
        if prev[0] == cur[0] and cur[1] < prev[2]:
            raise ValidationError(
                {
                    "slots": [
                        _("时段重叠:%(a)s 与 %(b)s") % {"a": fmt_slot(*prev), "b": fmt_slot(*cur)}
                    ]
                }
            )
    return clean


def _areas_clean(areas) -> list[tuple[str, int]]:
    """[("street"|"community"|"grid", id), …] → checked against the tree."""
    models = {"street": Street, "community": Community, "grid": Grid}
    out = []
    for level, node_id in areas or []:
        model = models.get(level)
        if model is None or not model.objects.filter(id=node_id).exists():
            raise ValidationError({"areas": [_("服务范围中有不存在的节点")]})
        out.append((level, int(node_id)))
    return out


def _provider_fields(fields: dict) -> dict:
    name = (fields.get("name") or "").strip()
    if "name" in fields and not name:
        raise ValidationError({"name": [_("请填写名称")]})
    if "name" in fields:
        fields["name"] = name[:60]
    if "kind" in fields and fields["kind"] not in Provider.Kind.values:
        raise ValidationError({"kind": [_("未知的类型")]})
    if "capacity" in fields:
        try:
            capacity = int(fields["capacity"])
        except (TypeError, ValueError):
            raise ValidationError({"capacity": [_("同时承接上限须为整数")]}) from None
        if not 1 <= capacity <= 100:
            raise ValidationError({"capacity": [_("同时承接上限须在 1–100 之间")]})
        fields["capacity"] = capacity
    if "radius_m" in fields:
        try:
            radius = int(fields["radius_m"] or 0)
        except (TypeError, ValueError):
            raise ValidationError({"radius_m": [_("服务半径须为整数 (米)")]}) from None
        if not 0 <= radius <= 20_000:
            raise ValidationError({"radius_m": [_("服务半径须在 0–20000 米之间")]})
        fields["radius_m"] = radius
    for key in ("lat", "lng"):
        if fields.get(key) in ("", None):
            fields[key] = None if key in fields else fields.get(key)
    if "phone" in fields:
        fields["phone"] = re.sub(r"[\s-]", "", fields["phone"] or "").removeprefix("+86")[:20]
    if "slots" in fields:
        fields["slots"] = slots_clean(fields["slots"])
    return fields


@transaction.atomic
def provider_register(*, actor, services, areas=(), verified: bool = False, **fields) -> Provider:
    """Registers a provider (pending until verified; those who may verify can do both)."""
    require_permission(actor, MANAGE_MATCHING)
    fields.setdefault("kind", Provider.Kind.VOLUNTEER)
    fields.setdefault("name", "")
    fields = _provider_fields(fields)
    services = list(services or [])
    if not services:
        raise ValidationError({"services": [_("请至少选择一项服务")]})
    areas = _areas_clean(areas)
    if not areas and not fields.get("radius_m"):
        raise ValidationError({"areas": [_("请填写服务范围 (网格、社区、街道或服务半径)")]})
    if fields.get("radius_m") and (fields.get("lat") is None or fields.get("lng") is None):
        home = fields.get("home_grid")
        if home is None:
            raise ValidationError({"radius_m": [_("按半径服务须有所在位置或所在网格")]})
        fields["lat"], fields["lng"] = home.center_lat, home.center_lng
    provider = Provider.objects.create(created_by=actor, **fields)
    provider.services.set(services)
    ProviderArea.objects.bulk_create(
        [ProviderArea(provider=provider, **{f"{level}_id": node_id}) for level, node_id in areas]
    )
    if verified:
        provider_verify(actor=actor, provider=provider, verification=Provider.Verification.VERIFIED)
    return provider


@transaction.atomic
def provider_update(*, actor, provider: Provider, services=None, areas=None, **fields) -> Provider:
    if not _is_provider_user(actor, provider):
        require_permission(actor, MANAGE_MATCHING)
    fields = _provider_fields(fields)
    for key, value in fields.items():
        setattr(provider, key, value)
    provider.save()
    if services is not None:
        if not services:
            raise ValidationError({"services": [_("请至少选择一项服务")]})
        provider.services.set(services)
    if areas is not None:
        areas = _areas_clean(areas)
        provider.areas.all().delete()
        ProviderArea.objects.bulk_create(
            [ProviderArea(provider=provider, **{f"{lv}_id": node}) for lv, node in areas]
        )
    return provider


def provider_set_slots(*, actor, provider: Provider, slots) -> Provider:
    """Weekly availability; a provider may keep its own."""
    if isinstance(slots, str):
        slots = slots_parse(slots)
    return provider_update(actor=actor, provider=provider, slots=slots)


def provider_verify(*, actor, provider: Provider, verification: str) -> Provider:
    require_permission(actor, VERIFY_PROVIDERS)
    if verification not in Provider.Verification.values:
        raise ValidationError({"verification": [_("未知的审核状态")]})
    provider.verification = verification
    provider.verified_by = actor
    provider.verified_at = timezone.now()
    provider.save(update_fields=["verification", "verified_by", "verified_at"])
    return provider


def provider_absence_add(
    *, actor, provider: Provider, starts_at: datetime, ends_at: datetime, note: str = ""
) -> ProviderAbsence:
    if not _is_provider_user(actor, provider):
        require_permission(actor, MANAGE_MATCHING)
    if starts_at is None or ends_at is None:
        raise ValidationError({"starts_at": [_("请填写暂停服务的起止时间")]})
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": [_("结束时间须晚于开始时间")]})
    return ProviderAbsence.objects.create(
        provider=provider, starts_at=starts_at, ends_at=ends_at, note=(note or "")[:100]
    )


def provider_archive(*, actor, provider: Provider) -> Provider:
    require_permission(actor, MANAGE_MATCHING)
    if provider.active_count:
        raise ValidationError({"provider": [_("仍有进行中的服务,不能归档")]})
    provider.archived_at = timezone.now()
    provider.save(update_fields=["archived_at"])
    return provider


# ---------------------------------------------------------------- demands


def _decimal(value, field: str, *, low: str, high: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: [_("请填写数字")]}) from None
    if not d.is_finite():
        raise ValidationError({field: [_("请填写数字")]})
    if not Decimal(low) <= d <= Decimal(high):
        raise ValidationError({field: [_("须在 %(a)s–%(b)s 之间") % {"a": low, "b": high}]})
    return d


@transaction.atomic
def demand_post(
    *,
    actor,
    service: Service,
    window_start: datetime,
    window_end: datetime,
    resident=None,
    place=None,
    organization=None,
    description: str = "",
    urgency: str = Demand.Urgency.NORMAL,
    channel: str = Demand.Channel.GRID_WORKER,
    source_ref: str = "",
    auto_next: bool = True,
    now: datetime | None = None,
) -> Demand:
    """Puts a need on the demand list, in the grid of the person (or place) who has it."""
    require_permission(actor, MANAGE_MATCHING)
    now = now or timezone.now()
    if service is None or not service.is_active:
        raise ValidationError({"service": [_("请选择服务项目")]})
    if window_start is None or window_end is None:
        raise ValidationError({"window_start": [_("请填写期望的服务时间")]})
    if window_end <= window_start:
        raise ValidationError({"window_end": [_("期望结束须晚于期望开始")]})
    if window_end <= now:
        raise ValidationError({"window_end": [_("期望时间已过")]})
    if window_end - window_start > MAX_WINDOW:
        raise ValidationError({"window_end": [_("期望时间跨度不能超过 60 天")]})
    if urgency not in Demand.Urgency.values:
        raise ValidationError({"urgency": [_("未知的紧急程度")]})
    if channel not in Demand.Channel.values:
        raise ValidationError({"channel": [_("未知的来源")]})
    who = resident or place or organization
    if who is None:
        raise ValidationError({"resident": [_("请选择服务对象 (居民、场所或组织)")]})
    if who.grid_id is None:
        raise ValidationError({"resident": [_("服务对象尚未定位到网格,请先补全其地址")]})
    grid = Grid.objects.get(id=who.grid_id)
    scope = scope_for(actor) if actor is not None else None
    if scope is not None and not scope.covers_grid(grid):
        raise PermissionDenied("demand grid")
    lat, lng = who.lat, who.lng
    if (lat is None or lng is None) and who.building_id:
        from yiwang.org.models import Building

        lat, lng = Building.objects.filter(id=who.building_id).values_list("lat", "lng").first()
    demand = Demand.objects.create(
        number=uuid.uuid4().hex[:24],
        service=service,
        resident=resident,
        place=place,
        organization=organization,
        description=(description or "").strip()[:500],
        window_start=window_start,
        window_end=window_end,
        address=who.address,
        grid=grid,
        community_id=grid.community_id,
        street_id=grid.street_id,
        lat=lat,
        lng=lng,
        urgency=urgency,
        channel=channel,
        source_ref=(source_ref or "")[:40],
        posted_by=actor,
        auto_next=auto_next,
    )
    demand.number = f"XQ{timezone.localdate(now):%Y%m%d}-{demand.id:06d}"
    # Say at once when nobody could take it, so the unmatched list shows why from the start.
    ranking = rank(demand, limit=1)
    if not ranking.eligible:
        demand.unmatched_reason = ranking.reason[:200]
    demand.save(update_fields=["number", "unmatched_reason"])
    return demand


def _live(demand: Demand) -> None:
    if not demand.is_live:
        raise MatchConflict(
            _("需求%(s)s,不能再操作") % {"s": demand.get_status_display()}, demand=demand
        )


@transaction.atomic
def demand_offer(
    *, actor, demand: Demand, providers, minutes: int | None = None, now=None
) -> list[Offer]:
    """Offers the demand to one or several providers; the first to accept gets it."""
    now = now or timezone.now()
    demand = Demand.objects.select_for_update().get(id=demand.id)
    if actor is not None:
        _desk_for(actor, demand)
    _live(demand)
    if demand.status == Demand.Status.MATCHED:
        raise MatchConflict(_("该需求已有服务方接单"), demand=demand)
    providers = list(providers)
    if not providers:
        raise ValidationError({"providers": [_("请选择至少一个服务方")]})
    ranking = {c.provider_id: c for c in rank(demand, limit=10_000).candidates}
    already = set(demand.offers.values_list("provider_id", flat=True))
    expires = now + timedelta(minutes=minutes or OFFER_MINUTES[demand.urgency])
    offers = []
    for provider in providers:
        if provider.id in already:
            raise ValidationError({"providers": [_("已向“%(p)s”派过此单") % {"p": provider.name}]})
        candidate = ranking.get(provider.id)
        if candidate is None:
            raise ValidationError(
                {"providers": [_("“%(p)s”不提供此服务或不服务此处") % {"p": provider.name}]}
            )
        offers.append(
            Offer(
                demand=demand,
                provider=provider,
                score=candidate.score,
                reasons=candidate.reasons + candidate.problems,
                offered_by=actor,
                expires_at=expires,
            )
        )
    Offer.objects.bulk_create(offers)
    demand.status = Demand.Status.OFFERED
    demand.unmatched_reason = ""
    demand.save(update_fields=["status", "unmatched_reason"])
    return offers


@transaction.atomic
def offer_accept(*, actor, offer: Offer, now=None) -> Demand:
    """The provider takes the demand. The first acceptance wins: the conditional update of the
    demand row is the decision (it also serialises concurrent accepts on PostgreSQL), and the
    partial unique index on accepted offers is the database's backstop."""
    now = now or timezone.now()
    offer = Offer.objects.select_related("provider", "demand").get(id=offer.id)
    provider, demand = offer.provider, offer.demand
    if not _is_provider_user(actor, provider):
        _desk_for(actor, demand)
    won = Demand.objects.filter(
        id=demand.id, status__in=[Demand.Status.OPEN, Demand.Status.OFFERED]
    ).update(status=Demand.Status.MATCHED, provider=provider, matched_at=now)
    if not won:
        demand.refresh_from_db()
        if demand.status == Demand.Status.MATCHED and demand.provider_id != provider.id:
            raise MatchConflict(_("该需求已由其他服务方接单,感谢您的响应"), demand=demand)
        _live(demand)
        raise MatchConflict(_("该需求当前不能接单"), demand=demand)
    if offer.status != Offer.Status.PENDING:
        raise MatchConflict(
            _("此派单%(s)s,不能再接单") % {"s": offer.get_status_display()}, demand=demand
        )
    if offer.expires_at <= now:
        raise MatchConflict(_("此派单已超过答复期限"), demand=demand)
    if not Provider.objects.filter(id=provider.id, active_count__lt=F("capacity")).update(
        active_count=F("active_count") + 1
    ):
        raise MatchConflict(_("您已达到同时承接上限,请先完成手头的服务"), demand=demand)
    try:
        with transaction.atomic():
            Offer.objects.filter(id=offer.id).update(status=Offer.Status.ACCEPTED, answered_at=now)
    except IntegrityError:
        raise MatchConflict(_("该需求已由其他服务方接单,感谢您的响应"), demand=demand) from None
    demand.offers.filter(status=Offer.Status.PENDING).update(
        status=Offer.Status.TAKEN, answered_at=now
    )
    demand.refresh_from_db()
    return demand


@transaction.atomic
def offer_decline(*, actor, offer: Offer, reason: str = "", now=None) -> Offer:
    now = now or timezone.now()
    offer = Offer.objects.select_related("provider", "demand").get(id=offer.id)
    if not _is_provider_user(actor, offer.provider):
        _desk_for(actor, offer.demand)
    if offer.status != Offer.Status.PENDING:
        raise MatchConflict(
            _("此派单%(s)s,无需再答复") % {"s": offer.get_status_display()}, demand=offer.demand
        )
    offer.status = Offer.Status.DECLINED
    offer.answered_at = now
    offer.decline_reason = (reason or "").strip()[:200]
    offer.save(update_fields=["status", "answered_at", "decline_reason"])
    _move_on(offer.demand, now)
    return offer


def _move_on(demand: Demand, now) -> Offer | None:
    """After an offer ends unanswered or declined: when none is pending, offer the demand to
    the best eligible provider not yet asked, or put it back on the unmatched list, saying why."""
    demand = Demand.objects.select_for_update().get(id=demand.id)
    if demand.status != Demand.Status.OFFERED:
        return None
    if demand.offers.filter(status=Offer.Status.PENDING).exists():
        return None
    if demand.auto_next and demand.window_end > now:
        asked = set(demand.offers.values_list("provider_id", flat=True))
        ranking = rank(demand, limit=1, exclude=asked)
        best = ranking.candidates[0] if ranking.candidates else None
        if best is not None and best.eligible:
            return Offer.objects.create(
                demand=demand,
                provider_id=best.provider_id,
                score=best.score,
                reasons=best.reasons,
                offered_by=None,
                expires_at=now + timedelta(minutes=OFFER_MINUTES[demand.urgency]),
            )
        reason = ranking.reason or _("其余服务方均不符合条件")
    else:
        reason = _("派单均未被接受")
    demand.status = Demand.Status.OPEN
    demand.unmatched_reason = reason[:200]
    demand.save(update_fields=["status", "unmatched_reason"])
    return None


def offers_expire(*, now=None, batch: int = 500) -> int:
    """The worker's tick: ends offers past their answer time and moves each demand on."""
    now = now or timezone.now()
    due = list(
        Offer.objects.filter(status=Offer.Status.PENDING, expires_at__lte=now)
        .values_list("id", "demand_id")
        .order_by("expires_at")[:batch]
    )
    for offer_id, demand_id in due:
        with transaction.atomic():
            if Offer.objects.filter(id=offer_id, status=Offer.Status.PENDING).update(
                status=Offer.Status.EXPIRED, answered_at=now
            ):
                _move_on(Demand(id=demand_id), now)
    return len(due)


@transaction.atomic
def demand_complete(
    *, actor, demand: Demand, note: str = "", hours=None, photo=None, now=None
) -> Demand:
    """The service is done: the provider's record and hours, and a service record."""
    now = now or timezone.now()
    demand = (
        Demand.objects.select_for_update(of=("self",))
        .select_related("provider", "service", "resident")
        .get(id=demand.id)
    )
    if demand.provider is None or not _is_provider_user(actor, demand.provider):
        _desk_for(actor, demand)
    if demand.status != Demand.Status.MATCHED:
        raise MatchConflict(
            _("需求%(s)s,不能登记完成") % {"s": demand.get_status_display()}, demand=demand
        )
    hours = _decimal(hours, "hours", low="0.1", high="24") or demand.service.default_hours
    if photo is not None:
        from yiwang.cases.photos import check_image

        check_image(photo)
        demand.photo = photo
    demand.status = Demand.Status.DONE
    demand.completed_at = now
    demand.completion_note = (note or "").strip()[:500]
    demand.hours = hours
    demand.save()
    Provider.objects.filter(id=demand.provider_id).update(
        active_count=F("active_count") - 1,
        completed_count=F("completed_count") + 1,
        hours_total=F("hours_total") + hours,
    )
    provider = demand.provider
    service_record_add(
        kind=ServiceRecord.Kind.SERVICE,
        ref=demand.number,
        at=now,
        hours=hours,
        user_id=provider.user_id,
        provider_id=provider.id,
        organization_id=provider.organization_id,
        resident_id=demand.resident_id,
        household_id=demand.resident.household_id if demand.resident else None,
        grid_id=demand.grid_id,
        community_id=demand.community_id,
        street_id=demand.street_id,
    )
    return demand


@transaction.atomic
def demand_rate(*, actor, demand: Demand, rating, note: str = "") -> Demand:
    """The recipient's rating (1–5), taken by the desk or the poster; a second one replaces it."""
    demand = Demand.objects.select_for_update().get(id=demand.id)
    _desk_for(actor, demand)
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        raise ValidationError({"rating": [_("评价须为 1–5 分")]}) from None
    if not 1 <= rating <= 5:
        raise ValidationError({"rating": [_("评价须为 1–5 分")]})
    if demand.status != Demand.Status.DONE:
        raise MatchConflict(_("服务完成后才能评价"), demand=demand)
    previous = demand.rating
    demand.rating = rating
    demand.rating_note = (note or "").strip()[:200]
    demand.save(update_fields=["rating", "rating_note"])
    Provider.objects.filter(id=demand.provider_id).update(
        rating_sum=F("rating_sum") + rating - (previous or 0),
        rating_count=F("rating_count") + (0 if previous else 1),
    )
    return demand


@transaction.atomic
def demand_cancel(*, actor, demand: Demand, reason: str, now=None) -> Demand:
    now = now or timezone.now()
    demand = Demand.objects.select_for_update().get(id=demand.id)
    _desk_for(actor, demand)
    _live(demand)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写取消原因")]})
    if demand.status == Demand.Status.MATCHED:
        Provider.objects.filter(id=demand.provider_id).update(active_count=F("active_count") - 1)
        demand.offers.filter(status=Offer.Status.ACCEPTED).update(status=Offer.Status.WITHDRAWN)
    demand.offers.filter(status=Offer.Status.PENDING).update(
        status=Offer.Status.WITHDRAWN, answered_at=now
    )
    demand.status = Demand.Status.CANCELLED
    demand.cancelled_at = now
    demand.cancel_reason = reason[:200]
    demand.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    return demand


# ---------------------------------------------------------------- partners and open calls


def partner_join(*, actor, organization, is_red_partner: bool = True, members=()) -> Partner:
    require_permission(actor, VERIFY_PROVIDERS)
    partner, _created = Partner.objects.get_or_create(
        organization=organization, defaults={"is_red_partner": is_red_partner}
    )
    if partner.is_red_partner != is_red_partner or partner.archived_at:
        partner.is_red_partner = is_red_partner
        partner.archived_at = None
        partner.save(update_fields=["is_red_partner", "archived_at"])
    if members:
        partner.members.add(*members)
    return partner


def call_units(actor) -> list[tuple[str, object]]:
    """The units an actor may publish for: ("department"|"street"|"community"|"district", node)."""
    from yiwang.org.models import Role, RoleKind

    if actor is None or not has_permission(actor, PUBLISH_CALLS):
        return []
    units = []
    if actor.is_superuser:
        units.append(("district", None))
    for role in Role.objects.filter(user=actor).select_related("department", "street", "community"):
        if role.kind in (RoleKind.DISTRICT_ADMIN, RoleKind.DISTRICT_LEADER):
            units.append(("district", None))
        elif role.department_id:
            units.append(("department", role.department))
        elif role.community_id:
            units.append(("community", role.community))
        elif role.street_id:
            units.append(("street", role.street))
    seen, out = set(), []
    for level, node in units:
        key = (level, getattr(node, "id", None))
        if key not in seen:
            seen.add(key)
            out.append((level, node))
    return out


def _manages_call(actor, call: OpenCall) -> bool:
    if actor is None:
        return True
    if actor.is_superuser or call.created_by_id == actor.id:
        return True
    units = call_units(actor)
    for level, node in units:
        if level == "district":
            return True
        if level == "department" and call.department_id == node.id:
            return True
        if level == "street" and call.street_id == node.id:
            return True
        if level == "community" and call.community_id == node.id:
            return True
    return False


def managed_calls_q(actor) -> Q:
    """The calls `_manages_call` says the actor manages, as one filter (for lists)."""
    if actor is None or actor.is_superuser:
        return Q()
    q = Q(created_by_id=actor.id)
    for level, node in call_units(actor):
        if level == "district":
            return Q()
        field = {"department": "department_id", "street": "street_id", "community": "community_id"}
        if level in field:
            q |= Q(**{field[level]: node.id})
    return q


def _call_manager(actor, call: OpenCall) -> None:
    require_permission(actor, PUBLISH_CALLS)
    if not _manages_call(actor, call):
        raise PermissionDenied("open call unit")


def call_create(
    *,
    actor,
    title: str,
    description: str,
    apply_by: datetime,
    unit: tuple[str, object] | None = None,
    location: str = "",
    budget=None,
    in_kind: str = "",
    criteria: str = "",
    deliver_by=None,
    now=None,
) -> OpenCall:
    require_permission(actor, PUBLISH_CALLS)
    now = now or timezone.now()
    title, description = (title or "").strip(), (description or "").strip()
    if not title:
        raise ValidationError({"title": [_("请填写任务名称")]})
    if not description:
        raise ValidationError({"description": [_("请填写任务内容")]})
    if apply_by is None or apply_by <= now:
        raise ValidationError({"apply_by": [_("报名截止时间须晚于现在")]})
    if deliver_by is not None and deliver_by < timezone.localtime(apply_by).date():
        raise ValidationError({"deliver_by": [_("交付期限不能早于报名截止")]})
    budget = _decimal(budget, "budget", low="0", high="9999999999")
    if budget is None and not (in_kind or "").strip():
        raise ValidationError({"budget": [_("请填写预算或非资金支持")]})
    units = call_units(actor)
    if unit is None:
        if not units:
            raise PermissionDenied("no unit")
        unit = units[0]
    level, node = unit
    if (
        actor is not None
        and not actor.is_superuser
        and not any(
            lv == level and getattr(n, "id", None) == getattr(node, "id", None) for lv, n in units
        )
    ):
        raise PermissionDenied("unit")
    call = OpenCall.objects.create(
        number=uuid.uuid4().hex[:24],
        title=title[:100],
        description=description[:4000],
        location=(location or "")[:200],
        budget=budget,
        in_kind=(in_kind or "").strip()[:200],
        criteria=(criteria or "").strip()[:2000],
        apply_by=apply_by,
        deliver_by=deliver_by,
        department=node if level == "department" else None,
        street=node if level == "street" else None,
        community=node if level == "community" else None,
        created_by=actor,
    )
    call.number = f"JB{timezone.localdate(now):%Y%m%d}-{call.id:04d}"
    call.save(update_fields=["number"])
    return call


def _call_state(call: OpenCall, *allowed: str) -> None:
    if call.status not in allowed:
        raise MatchConflict(
            _("揭榜任务%(s)s,不能进行此操作") % {"s": call.get_status_display()}, call=call
        )


def call_publish(*, actor, call: OpenCall, now=None) -> OpenCall:
    now = now or timezone.now()
    _call_manager(actor, call)
    _call_state(call, OpenCall.Status.DRAFT)
    if call.apply_by <= now:
        raise ValidationError({"apply_by": [_("报名截止时间已过,请先修改")]})
    call.status = OpenCall.Status.PUBLISHED
    call.published_at = now
    call.save(update_fields=["status", "published_at"])
    return call


def call_apply(
    *, actor, call: OpenCall, partner: Partner, proposal: str, amount=None, now=None
) -> Application:
    now = now or timezone.now()
    if actor is not None and not (
        actor.is_superuser or partner.members.filter(id=actor.id).exists()
    ):
        raise PermissionDenied("partner member")
    if partner.archived_at is not None:
        raise ValidationError({"partner": [_("该单位已退出合作")]})
    _call_state(call, OpenCall.Status.PUBLISHED)
    if call.apply_by <= now:
        raise MatchConflict(
            _("报名已于 %(t)s 截止") % {"t": f"{timezone.localtime(call.apply_by):%Y-%m-%d %H:%M}"},
            call=call,
        )
    proposal = (proposal or "").strip()
    if not proposal:
        raise ValidationError({"proposal": [_("请填写实施方案")]})
    amount = _decimal(amount, "amount", low="0", high="9999999999")
    if amount is not None and call.budget is not None and amount > call.budget:
        raise ValidationError({"amount": [_("报价超出预算 %(b)s 元") % {"b": call.budget}]})
    try:
        with transaction.atomic():
            return Application.objects.create(
                call=call,
                partner=partner,
                proposal=proposal[:4000],
                amount=amount,
                submitted_by=actor,
            )
    except IntegrityError:
        raise ValidationError({"partner": [_("本单位已报名此任务")]}) from None


@transaction.atomic
def call_choose(*, actor, call: OpenCall, applications, milestones=(), now=None) -> OpenCall:
    """Chooses one or more applications; the others are told. Each chosen one gets the
    delivery milestones [(title, due date), …] (one "交付" milestone when none are given)."""
    _call_manager(actor, call)
    _call_state(call, OpenCall.Status.PUBLISHED)
    chosen = [a for a in applications if a.call_id == call.id]
    if not chosen:
        raise ValidationError({"applications": [_("请选择至少一个报名单位")]})
    ids = {a.id for a in chosen}
    call.applications.filter(id__in=ids).update(status=Application.Status.CHOSEN)
    call.applications.exclude(id__in=ids).filter(status=Application.Status.SUBMITTED).update(
        status=Application.Status.NOT_CHOSEN
    )
    steps = [(t.strip(), d) for t, d in milestones if (t or "").strip()] or [
        (_("交付"), call.deliver_by)
    ]
    Milestone.objects.bulk_create(
        [Milestone(application_id=a, title=t[:100], due=d) for a in sorted(ids) for t, d in steps]
    )
    call.status = OpenCall.Status.AWARDED
    call.save(update_fields=["status"])
    return call


def milestone_submit(
    *, actor, milestone: Milestone, evidence: str, file=None, now=None
) -> Milestone:
    now = now or timezone.now()
    milestone = Milestone.objects.select_related("application__call", "application__partner").get(
        id=milestone.id
    )
    application = milestone.application
    if actor is not None and not (
        actor.is_superuser or application.partner.members.filter(id=actor.id).exists()
    ):
        raise PermissionDenied("partner member")
    _call_state(application.call, OpenCall.Status.AWARDED)
    evidence = (evidence or "").strip()
    if not evidence and not file:
        raise ValidationError({"evidence": [_("请填写完成情况或上传佐证材料")]})
    milestone.evidence = evidence[:1000]
    if file:
        milestone.evidence_file = file
    milestone.submitted_at = now
    milestone.accepted_at = None
    milestone.save()
    return milestone


@transaction.atomic
def milestone_accept(*, actor, milestone: Milestone, now=None) -> Milestone:
    now = now or timezone.now()
    milestone = Milestone.objects.select_related("application__call").get(id=milestone.id)
    call = milestone.application.call
    _call_manager(actor, call)
    _call_state(call, OpenCall.Status.AWARDED)
    if milestone.submitted_at is None:
        raise ValidationError({"milestone": [_("合作单位尚未提交完成情况")]})
    milestone.accepted_at = now
    milestone.save(update_fields=["accepted_at"])
    open_steps = Milestone.objects.filter(
        application__call=call,
        application__status=Application.Status.CHOSEN,
        accepted_at__isnull=True,
    )
    if not open_steps.exists():
        call.status = OpenCall.Status.DELIVERED
        call.save(update_fields=["status"])
    return milestone


@transaction.atomic
def call_evaluate(
    *, actor, application: Application, score, note: str = "", now=None
) -> Application:
    now = now or timezone.now()
    # Read afresh: the caller's copy may predate the choice or the last milestone.
    application = Application.objects.select_related("call", "partner").get(id=application.id)
    call = application.call
    _call_manager(actor, call)
    _call_state(call, OpenCall.Status.DELIVERED)
    if application.status != Application.Status.CHOSEN:
        raise ValidationError({"application": [_("只能评价已选定的单位")]})
    try:
        score = int(score)
    except (TypeError, ValueError):
        raise ValidationError({"score": [_("评价须为 1–5 分")]}) from None
    if not 1 <= score <= 5:
        raise ValidationError({"score": [_("评价须为 1–5 分")]})
    application.score = score
    application.evaluation = (note or "").strip()[:500]
    application.evaluated_at = now
    application.save(update_fields=["score", "evaluation", "evaluated_at"])
    service_record_add(
        kind=ServiceRecord.Kind.OPEN_CALL,
        ref=f"{call.number}/{application.partner_id}",
        at=now,
        organization_id=application.partner.organization_id,
        community_id=call.community_id,
        street_id=call.street_id,
        department_id=call.department_id,
    )
    if not call.applications.filter(
        status=Application.Status.CHOSEN, evaluated_at__isnull=True
    ).exists():
        call.status = OpenCall.Status.EVALUATED
        call.save(update_fields=["status"])
    return application


def call_cancel(*, actor, call: OpenCall) -> OpenCall:
    _call_manager(actor, call)
    _call_state(call, OpenCall.Status.DRAFT, OpenCall.Status.PUBLISHED)
    call.status = OpenCall.Status.CANCELLED
    call.save(update_fields=["status"])
    return call


# ---------------------------------------------------------------- service records


def service_record_add(*, kind: str, ref: str, at, **fields) -> ServiceRecord | None:
    """Idempotent: one record per (kind, ref), so a case closed twice counts once."""
    try:
        with transaction.atomic():
            return ServiceRecord.objects.create(kind=kind, ref=ref[:40], at=at, **fields)
    except IntegrityError:
        return None


def service_records_backfill(*, batch: int = 5000, progress=None) -> int:
    """Records for work done before the hooks were there (or loaded in bulk): closed cases and
    finished calls. Idempotent; returns how many it added."""
    from yiwang.cases.models import Case
    from yiwang.outreach.models import FINAL_OUTCOMES, CallTask

    added = 0
    cases = Case.objects.filter(state="closed", closed_at__isnull=False).values_list(
        "number", "closed_at", "closed_by_id", "department_id", "grid_id", "community_id",
        "street_id",
    )  # fmt: skip
    calls = CallTask.objects.filter(outcome__in=FINAL_OUTCOMES).values_list(
        "id", "called_at", "caller_id", "resident_id", "grid_id"
    )
    total = cases.count() + calls.count()
    rows: list[ServiceRecord] = []
    seen = 0

    def flush():
        nonlocal added, rows, seen
        before = ServiceRecord.objects.count()
        ServiceRecord.objects.bulk_create(rows, ignore_conflicts=True)
        added += ServiceRecord.objects.count() - before
        seen += len(rows)
        if progress:
            progress(seen, total)
        rows = []

    for number, at, user_id, dept, grid, community, street in cases.iterator(chunk_size=batch):
        rows.append(
            ServiceRecord(
                kind=ServiceRecord.Kind.CASE, ref=number, at=at, user_id=user_id,
                department_id=dept, grid_id=grid, community_id=community, street_id=street,
            )
        )  # fmt: skip
        if len(rows) >= batch:
            flush()
    for task_id, at, caller, resident, grid in calls.iterator(chunk_size=batch):
        rows.append(
            ServiceRecord(
                kind=ServiceRecord.Kind.CALL, ref=f"call-{task_id}", at=at or timezone.now(),
                user_id=caller, resident_id=resident, grid_id=grid,
            )
        )  # fmt: skip
        if len(rows) >= batch:
            flush()
    flush()
    return added


def record_case_event(case, event) -> None:
    """Case event hook: a case closed counts toward who closed it and its department."""
    if event.to_state != "closed":
        return
    service_record_add(
        kind=ServiceRecord.Kind.CASE,
        ref=case.number,
        at=event.created_at,
        user_id=event.actor_id,
        department_id=case.department_id,
        grid_id=case.grid_id,
        community_id=case.community_id,
        street_id=case.street_id,
    )


def record_call(task) -> None:
    """Outreach hook: a call that reached its end counts toward its caller."""
    service_record_add(
        kind=ServiceRecord.Kind.CALL,
        ref=f"call-{task.id}",
        at=task.called_at or timezone.now(),
        user_id=task.caller_id,
        resident_id=task.resident_id,
        grid_id=task.grid_id,
    )
