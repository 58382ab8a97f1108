"""Personal-information rules (PIPL 个人信息保护法) in one place: the purposes a read may state,
the access-log writer every personal-data read calls exactly once, and the masked shape of a
person that every list, card and export starts from."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .idcard import id_mask, phone_mask
from .models import AccessLog, Gender, ResidenceType, Resident

# Labels by value, read once: get_FOO_display() hashes the lazy choices on every call, which was
# a large part of a search page's CPU (50 people per page).
GENDER_LABELS = dict(Gender.choices)
RESIDENCE_LABELS = dict(ResidenceType.choices)

# Purposes a search or export may state (choices plus free text for "other").
PURPOSES = {
    "routine": gettext_lazy("日常管理"),
    "visit": gettext_lazy("走访服务"),
    "case": gettext_lazy("案件办理"),
    "outreach": gettext_lazy("精准摸排"),
    "statistics": gettext_lazy("统计分析"),
    "verification": gettext_lazy("数据核查"),
    "other": gettext_lazy("其他"),
}
DEFAULT_PURPOSE = "routine"


def purpose_clean(purpose: str | None, reason: str | None, *, required: bool) -> tuple[str, str]:
    """The stated purpose and its free text. Searches and exports must state one; "other"
    must say what it is."""
    purpose = (purpose or "").strip()
    reason = (reason or "").strip()[:200]
    if not purpose:
        if required:
            raise ValidationError({"purpose": [_("请选择查询用途")]})
        purpose = DEFAULT_PURPOSE
    if purpose not in PURPOSES:
        raise ValidationError({"purpose": [_("未知的用途 %(p)s") % {"p": purpose}]})
    if purpose == "other" and not reason:
        raise ValidationError({"reason": [_("用途为“其他”时请填写事由")]})
    return purpose, reason


def access_log_write(
    *,
    actor,
    action: str,
    purpose: str = DEFAULT_PURPOSE,
    reason: str = "",
    filter: dict | None = None,
    record_count: int = 0,
    obj=None,
    channel: str = "api",
) -> AccessLog:
    """Appends one access-log row. Called by the selectors and exports themselves, so that no
    read of personal data can forget it."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AccessLog.objects.create(
        actor=user,
        actor_name=(user.get_username() if user else "system"),
        action=action,
        purpose=purpose,
        reason=reason,
        filter={k: v for k, v in (filter or {}).items() if v not in (None, "", [], False)},
        record_count=record_count,
        object_type=type(obj).__name__.lower() if obj is not None else "",
        object_id=getattr(obj, "pk", None),
        channel=channel,
    )


def resident_masked(r: Resident, *, revealed: bool = False, tags: list[str] | None = None) -> dict:
    """A person as lists and cards show them: ID and phones masked unless revealed. `tags`:
    the tag names when the caller read them already."""
    phones = r.phones or []
    return {
        "id": r.id,
        "name": r.name,
        "gender": r.gender,
        "gender_label": str(GENDER_LABELS.get(r.gender, r.gender)) if r.gender else "",
        "birth_date": r.birth_date.isoformat() if r.birth_date else None,
        "id_number": r.id_number if revealed else id_mask(r.id_number),
        "phones": list(phones) if revealed else [phone_mask(p) for p in phones],
        "masked": not revealed,
        "address": r.address,
        "grid_id": r.grid_id,
        "building_id": r.building_id,
        "house_id": r.house_id,
        "household_id": r.household_id,
        "relation_to_head": r.relation_to_head,
        "residence_type": r.residence_type,
        "residence_type_label": str(RESIDENCE_LABELS.get(r.residence_type, r.residence_type)),
        "hukou_address": r.hukou_address,
        "ethnic_group": r.ethnic_group,
        "is_party_member": r.is_party_member,
        # Prefetched by the selectors; one query per page, not per row.
        "tags": tags if tags is not None else [t.name for t in r.tags.all()],
        "workplace": r.workplace,
        "notes": r.notes,
        "address_status": r.address_status,
        "archived": r.archived_at is not None,
        "sources": list(r.sources or []),
    }
