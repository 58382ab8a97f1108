"""Every write to the registry. Services take the acting user first, check the permission and
the scope (an actor can only put elements in grids they see), validate in Python with Chinese
messages keyed by field, and write in one transaction."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.org.models import Building, Department
from yiwang.org.permissions import MANAGE_REGISTRY, require_permission

from .idcard import IdError, credit_code_parse, id_parse, phone_parse, phones_parse
from .models import (
    AddressStatus,
    House,
    Household,
    ImportSource,
    Organization,
    Place,
    ResidenceType,
    Resident,
    ResidentLink,
    Tag,
)
from .selectors import element_visible, visible_grid_ids

MANUAL_SOURCE = "manual"


def element_locate(
    *,
    actor,
    address: str = "",
    lat: float | None = None,
    lng: float | None = None,
    building_id: int | None = None,
) -> dict:
    """Where an element lands: a building chosen from the address base, else the address text
    through the resolver, else a point. Unresolved → the "needs address" queue. A grid outside
    the actor's scope is refused: nobody files people into someone else's grid."""
    from yiwang.geo.index import locate
    from yiwang.geo.resolve import resolve_address

    out = {
        "building_id": None,
        "grid_id": None,
        "lat": lat,
        "lng": lng,
        "address_status": AddressStatus.NEEDS_ADDRESS,
        "address_message": "",
        "unit": "",
        "room": "",
    }
    if building_id:
        building = Building.objects.filter(id=building_id).first()
        if building is None:
            raise ValidationError({"building_id": [_("楼院不存在")]})
        out.update(
            building_id=building.id, grid_id=building.grid_id, lat=building.lat, lng=building.lng
        )
        address = address or building.address
    elif (address or "").strip():
        res = resolve_address(address)
        out["address_message"] = res.message[:200]
        out["unit"], out["room"] = res.parsed.unit, res.parsed.room
        if res.grid_id is not None:
            out.update(grid_id=res.grid_id, building_id=res.building_id)
            if lat is None:
                out.update(lat=res.lat, lng=res.lng)
    if out["grid_id"] is None and lat is not None and lng is not None:
        located = locate(lat, lng)
        if located.inside:
            out.update(grid_id=located.grid_id, address_message=_("按坐标定位"))
    if out["grid_id"] is not None:
        out["address_status"] = AddressStatus.RESOLVED
        allowed = visible_grid_ids(actor) if actor is not None else None
        if allowed is not None and out["grid_id"] not in allowed:
            raise ValidationError({"address": [_("该地址位于您的管辖范围之外")]})
    out["address"] = (address or "").strip()[:200]
    return out


# -- residents ----------------------------------------------------------------------------

RESIDENT_FIELDS = {
    "name",
    "gender",
    "birth_date",
    "id_number",
    "phones",
    "address",
    "building_id",
    "lat",
    "lng",
    "household_id",
    "relation_to_head",
    "house_id",
    "residence_type",
    "hukou_address",
    "ethnic_group",
    "is_party_member",
    "tags",
    "workplace",
    "notes",
}


def _links_check(actor, data: dict, links: dict, errors: dict) -> None:
    """A write may only point at live households and houses the actor sees: nobody files a
    person into another grid's household by typing its number."""
    for name, model in links.items():
        value = data.get(name)
        if value in (None, ""):
            if name in data:
                data[name] = None
            continue
        if not element_visible(actor=actor, model=model, id=value):
            errors[name] = [_("不存在、已归档或不在您的管辖范围内")]
        else:
            data[name] = int(value)


def _resident_clean(
    actor, fields: dict, *, current: Resident | None
) -> tuple[dict, list[Tag] | None]:
    unknown = set(fields) - RESIDENT_FIELDS
    if unknown:
        raise ValidationError({sorted(unknown)[0]: [_("未知字段")]})
    data = dict(fields)
    errors: dict[str, list[str]] = {}
    _links_check(actor, data, {"household_id": Household, "house_id": House}, errors)
    if "name" in data or current is None:
        data["name"] = (data.get("name") or "").strip()
        if not data["name"]:
            errors["name"] = [_("姓名不能为空")]
    if isinstance(data.get("birth_date"), str):
        try:
            data["birth_date"] = (
                dt.date.fromisoformat(data["birth_date"]) if data["birth_date"] else None
            )
        except ValueError:
            errors["birth_date"] = [_("出生日期格式应为 YYYY-MM-DD")]
    if data.get("id_number"):
        try:
            parsed = id_parse(data["id_number"])
        except IdError as exc:
            errors["id_number"] = [_(str(exc))]
        else:
            data["id_number"] = parsed.number
            birth = data.get("birth_date") or (current.birth_date if current else None)
            if "birth_date" in data and birth and birth != parsed.birth_date:
                errors["birth_date"] = [_("出生日期与身份证号不一致")]
            gender = data.get("gender")
            if gender and gender != parsed.gender:
                errors["gender"] = [_("性别与身份证号不一致")]
            data["birth_date"], data["gender"] = parsed.birth_date, parsed.gender
    if "phones" in data:
        raw = data["phones"]
        text = "、".join(raw) if isinstance(raw, list | tuple) else str(raw or "")
        try:
            data["phones"], _normalised = phones_parse(text)
        except IdError as exc:
            errors["phones"] = [_(str(exc))]
    if "residence_type" in data and data["residence_type"] not in ResidenceType.values:
        errors["residence_type"] = [_("人口类型应为 户籍、常住 或 流动")]
    tags = None
    if "tags" in data:
        wanted = [t for t in (data.pop("tags") or []) if t]
        tags = list(Tag.objects.filter(code__in=wanted)) + list(Tag.objects.filter(name__in=wanted))
        missing = set(wanted) - {t.code for t in tags} - {t.name for t in tags}
        if missing:
            errors["tags"] = [_("未知标签: %(t)s") % {"t": "、".join(sorted(missing))}]
    if errors:
        raise ValidationError(errors)
    return data, tags


def _mark_sources(resident: Resident, changed: list[str], source: str) -> None:
    if source not in (resident.sources or []):
        resident.sources = [*(resident.sources or []), source]
    field_sources = dict(resident.field_sources or {})
    for name in changed:
        field_sources[name] = source
    resident.field_sources = field_sources


def _save_unique(obj, **kwargs):
    try:
        with transaction.atomic():
            obj.save(**kwargs)
    except IntegrityError:
        raise ValidationError({"id_number": [_("该身份证号已登记")]}) from None


@transaction.atomic
def resident_create(*, actor, source: str = MANUAL_SOURCE, **fields) -> Resident:
    """Creates a person after validating the ID number (birth date and gender derived from it
    and cross-checked), phones and tags; lands them in a grid or the "needs address" queue."""
    require_permission(actor, MANAGE_REGISTRY)
    data, tags = _resident_clean(actor, fields, current=None)
    where = element_locate(
        actor=actor,
        address=data.pop("address", ""),
        lat=data.pop("lat", None),
        lng=data.pop("lng", None),
        building_id=data.pop("building_id", None),
    )
    if (
        data.get("id_number")
        and Resident.objects.filter(id_number=data["id_number"], archived_at=None).exists()
    ):
        raise ValidationError({"id_number": [_("该身份证号已登记")]})
    where.pop("unit"), where.pop("room")
    resident = Resident(**data, **where, created_by=actor if actor else None)
    _mark_sources(resident, [k for k, v in data.items() if v not in (None, "", [])], source)
    _save_unique(resident)
    if tags:
        resident.tags.set(tags)
    return resident


@transaction.atomic
def resident_update(
    *, actor, resident: Resident, source: str = MANUAL_SOURCE, **fields
) -> Resident:
    """Changes the given fields only; each changed field remembers that `source` set it."""
    require_permission(actor, MANAGE_REGISTRY)
    data, tags = _resident_clean(actor, fields, current=resident)
    changed: list[str] = []
    if {"address", "building_id", "lat", "lng"} & set(data):
        where = element_locate(
            actor=actor,
            address=data.pop("address", resident.address),
            lat=data.pop("lat", None),
            lng=data.pop("lng", None),
            building_id=data.pop("building_id", None),
        )
        where.pop("unit"), where.pop("room")
        for key, value in where.items():
            if getattr(resident, key) != value:
                setattr(resident, key, value)
                changed.append(key)
    for key, value in data.items():
        if getattr(resident, key) != value:
            setattr(resident, key, value)
            changed.append(key)
    if tags is not None and {t.id for t in tags} != set(resident.tags.values_list("id", flat=True)):
        resident.tags.set(tags)
        changed.append("tags")
    if changed:
        _mark_sources(resident, changed, source)
        _save_unique(resident, update_fields=[*{c for c in changed if c != "tags"},
                                              "sources", "field_sources", "updated_at"])  # fmt: skip
    return resident


def _archive(actor, obj):
    require_permission(actor, MANAGE_REGISTRY)
    if obj.archived_at is None:
        obj.archived_at = timezone.now()
        obj.save(update_fields=["archived_at", "updated_at"])
    return obj


def resident_archive(*, actor, resident: Resident) -> Resident:
    """Archives instead of deleting: the person leaves lists, their ID number is free again."""
    return _archive(actor, resident)


def resident_link_add(
    *, actor, resident: Resident, department: Department, ref: str
) -> ResidentLink:
    """Links a person to a department's work (a case dispatched to it): the department's staff
    may then see that person. Called by the cases app."""
    link, _created = ResidentLink.objects.get_or_create(
        resident=resident, department=department, ref=ref[:64]
    )
    return link


# -- households, houses, places, organisations ---------------------------------------------


def _element_fields(actor, model, fields: dict, *, current=None) -> dict:
    data = dict(fields)
    if current is None or {"address", "building_id", "lat", "lng"} & set(data):
        where = element_locate(
            actor=actor,
            address=data.pop("address", current.address if current else ""),
            lat=data.pop("lat", None),
            lng=data.pop("lng", None),
            building_id=data.pop("building_id", None),
        )
        unit, room = where.pop("unit"), where.pop("room")
        if model is House:
            data.setdefault("unit", unit)
            data.setdefault("room", room)
        data.update(where)
    errors: dict[str, list[str]] = {}
    if model is Household:
        _links_check(actor, data, {"house_id": House}, errors)
    if model in (Place, Organization):
        if "name" in data or current is None:
            data["name"] = (data.get("name") or "").strip()
            if not data["name"]:
                errors["name"] = [_("名称不能为空")]
        if ("kind" in data or current is None) and data.get("kind") not in model.Kind.values:
            errors["kind"] = [_("类型无效")]
        if data.get("contact_phone"):
            try:
                data["contact_phone"] = phone_parse(data["contact_phone"]).number
            except IdError as exc:
                errors["contact_phone"] = [_(str(exc))]
    if model is Organization and data.get("credit_code"):
        try:
            data["credit_code"] = credit_code_parse(data["credit_code"])
        except IdError as exc:
            errors["credit_code"] = [_(str(exc))]
    if model is House and data.get("room") == "" and current is None:
        errors["room"] = [_("请填写室号")]
    if errors:
        raise ValidationError(errors)
    return data


_EDITABLE = {
    House: {"address", "building_id", "lat", "lng", "unit", "room", "area_m2", "use",
            "occupancy", "owner_name", "tenant_name"},
    Household: {"address", "building_id", "lat", "lng", "number", "house_id"},
    Place: {"address", "building_id", "lat", "lng", "kind", "name", "contact_name",
            "contact_phone", "notes"},
    Organization: {"address", "building_id", "lat", "lng", "kind", "name", "credit_code",
                   "contact_name", "contact_phone", "notes"},
}  # fmt: skip


def _check_fields(model, fields):
    unknown = set(fields) - _EDITABLE[model]
    if unknown:
        raise ValidationError({sorted(unknown)[0]: [_("未知字段")]})


def _create(actor, model, fields):
    require_permission(actor, MANAGE_REGISTRY)
    _check_fields(model, fields)
    data = _element_fields(actor, model, fields)
    obj = model(**data, created_by=actor if actor else None)
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError:
        raise ValidationError({"__all__": [_("与已有记录重复")]}) from None
    return obj


def _update(actor, obj, fields):
    require_permission(actor, MANAGE_REGISTRY)
    _check_fields(type(obj), fields)
    data = _element_fields(actor, type(obj), fields, current=obj)
    changed = [k for k, v in data.items() if getattr(obj, k) != v]
    for key in changed:
        setattr(obj, key, data[key])
    if changed:
        try:
            with transaction.atomic():
                obj.save(update_fields=[*changed, "updated_at"])
        except IntegrityError:
            raise ValidationError({"__all__": [_("与已有记录重复")]}) from None
    return obj


def house_create(*, actor, **fields) -> House:
    return _create(actor, House, fields)


def house_update(*, actor, house: House, **fields) -> House:
    return _update(actor, house, fields)


def house_archive(*, actor, house: House) -> House:
    """Refused while people or households still live there: archiving would leave them
    pointing at a house nobody can open."""
    require_permission(actor, MANAGE_REGISTRY)
    people = Resident.objects.filter(house=house, archived_at=None).count()
    households = Household.objects.filter(house=house, archived_at=None).count()
    if people or households:
        raise ValidationError(
            {
                "house": [
                    _("该房屋仍有 %(p)s 名居民、%(h)s 户登记在此,请先迁出后再归档")
                    % {"p": people, "h": households}
                ]
            }
        )
    return _archive(actor, house)


def household_create(*, actor, head: Resident | None = None, **fields) -> Household:
    household = _create(actor, Household, fields)
    if head is not None:
        household_set_head(actor=actor, household=household, head=head)
    return household


def household_update(*, actor, household: Household, **fields) -> Household:
    return _update(actor, household, fields)


def household_archive(*, actor, household: Household) -> Household:
    """Refused while it has members (销户 comes after everyone has moved out)."""
    require_permission(actor, MANAGE_REGISTRY)
    members = Resident.objects.filter(household=household, archived_at=None).count()
    if members:
        raise ValidationError(
            {"household": [_("该户仍有 %(n)s 名成员,请先将成员迁出后再归档") % {"n": members}]}
        )
    return _archive(actor, household)


def _member_check(actor, household: Household, resident: Resident, field: str) -> None:
    if household.archived_at is not None or not element_visible(
        actor=actor, model=Household, id=household.id
    ):
        raise ValidationError({"household": [_("该户已归档或不在您的管辖范围内")]})
    if not element_visible(actor=actor, model=Resident, id=resident.id):
        raise ValidationError({field: [_("该居民已归档或不在您的管辖范围内")]})


@transaction.atomic
def household_set_head(*, actor, household: Household, head: Resident) -> Household:
    """Makes a person the head (户主): they join the household if they were not in it."""
    require_permission(actor, MANAGE_REGISTRY)
    _member_check(actor, household, head, "head")
    household.head = head
    household.save(update_fields=["head", "updated_at"])
    head.household, head.relation_to_head = household, "户主"
    head.save(update_fields=["household", "relation_to_head", "updated_at"])
    return household


@transaction.atomic
def household_add_member(*, actor, household: Household, resident: Resident, relation: str) -> None:
    require_permission(actor, MANAGE_REGISTRY)
    _member_check(actor, household, resident, "resident")
    resident.household, resident.relation_to_head = household, (relation or "")[:16]
    resident.save(update_fields=["household", "relation_to_head", "updated_at"])


@transaction.atomic
def household_remove_member(*, actor, household: Household, resident: Resident) -> None:
    """Takes a person out of a household (迁出): their household and relation are cleared and
    remembered as a manual edit. The head leaves last: while others remain, the head must be
    changed first, so a household never has members without a head it can show."""
    require_permission(actor, MANAGE_REGISTRY)
    _member_check(actor, household, resident, "resident")
    if resident.household_id != household.id:
        raise ValidationError({"resident": [_("该居民不是本户成员")]})
    if household.head_id == resident.id:
        others = (
            Resident.objects.filter(household=household, archived_at=None)
            .exclude(id=resident.id)
            .count()
        )
        if others:
            raise ValidationError(
                {"resident": [_("户主不能移出:本户还有 %(n)s 名成员,请先变更户主") % {"n": others}]}
            )
        household.head = None
        household.save(update_fields=["head", "updated_at"])
    resident.household, resident.relation_to_head = None, ""
    _mark_sources(resident, ["household_id", "relation_to_head"], MANUAL_SOURCE)
    resident.save(
        update_fields=["household", "relation_to_head", "sources", "field_sources", "updated_at"]
    )


def place_create(*, actor, **fields) -> Place:
    return _create(actor, Place, fields)


def place_update(*, actor, place: Place, **fields) -> Place:
    return _update(actor, place, fields)


def place_archive(*, actor, place: Place) -> Place:
    return _archive(actor, place)


def organization_create(*, actor, **fields) -> Organization:
    return _create(actor, Organization, fields)


def organization_update(*, actor, organization: Organization, **fields) -> Organization:
    return _update(actor, organization, fields)


def organization_archive(*, actor, organization: Organization) -> Organization:
    return _archive(actor, organization)


def import_source_save(*, actor, name: str, column_map: dict, label: str = "") -> ImportSource:
    """Saves a source's column mapping (header → field) for its next file."""
    source, _created = ImportSource.objects.update_or_create(
        name=name, defaults={"column_map": column_map, "label": label or name}
    )
    return source
