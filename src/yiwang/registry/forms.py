"""Reading what people type into the registry pages. The forms only check the shape of input
(length, number, choice) so nothing typed can become a 500; every rule about the data (ID check
digit, dates, tags, phones, scope) is the services', and a service's ValidationError is shown
next to the field it names (`add_service_errors`)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from yiwang.org.selectors import building_list

from .models import Gender, House, Organization, Place, ResidenceType

# Larger scopes (a street, the district) choose a building by typing its address instead.
BUILDING_CHOICES_MAX = 500
MAX_ID = 2**62


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: by field when the form shows that field,
    else above the form."""
    found = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    for key, messages in found.items():
        target = key if key in form.fields else None
        for message in messages:
            form.add_error(target, message)


class TagsField(forms.MultipleChoiceField):
    """Tag codes as checkboxes; a code that is not on the list passes through so the service
    names it ("未知标签: …")."""

    def valid_value(self, value) -> bool:
        return True


def _text(max_length: int, label, **kwargs) -> forms.CharField:
    return forms.CharField(label=label, max_length=max_length, required=False, **kwargs)


def _id_field(label, **kwargs) -> forms.IntegerField:
    return forms.IntegerField(label=label, required=False, min_value=1, max_value=MAX_ID, **kwargs)


class ResidentForm(forms.Form):
    name = _text(40, _("姓名"), widget=forms.TextInput(attrs={"required": True}))
    id_number = _text(30, _("身份证号"))
    gender = forms.ChoiceField(label=_("性别"), choices=Gender.choices, required=False)
    birth_date = _text(
        32, _("出生日期"), widget=forms.DateInput(attrs={"type": "date"}), strip=True
    )
    phones = _text(100, _("联系电话"), help_text=_("多个号码用顿号或逗号分隔"))
    address = _text(200, _("住址"))
    residence_type = forms.ChoiceField(
        label=_("人口类型"), choices=ResidenceType.choices, initial=ResidenceType.PERMANENT
    )
    hukou_address = _text(200, _("户籍地"))
    ethnic_group = _text(12, _("民族"))
    is_party_member = forms.BooleanField(label=_("党员"), required=False)
    tags = TagsField(label=_("关怀标签"), required=False, widget=forms.CheckboxSelectMultiple)
    workplace = _text(100, _("工作单位"))
    household_id = _id_field(_("户编号"))
    relation_to_head = _text(16, _("与户主关系"))
    house_id = _id_field(_("房屋编号"))
    notes = _text(2000, _("备注"), widget=forms.Textarea(attrs={"rows": 3}))

    # Personal numbers are never put back into an edit form in clear: blank keeps them.
    KEEP_WHEN_BLANK = ("id_number", "phones")

    def __init__(self, *args, tags=(), editing: bool = False, masked: dict | None = None, **kw):
        super().__init__(*args, **kw)
        self.fields["tags"].choices = [(t.code, t.name) for t in tags]
        if editing:
            masked = masked or {}
            for name in self.KEEP_WHEN_BLANK:
                field = self.fields[name]
                field.help_text = _("留空则不修改")
                shown = masked.get(name)
                if shown:
                    field.widget.attrs["placeholder"] = shown


class ElementForm(forms.Form):
    """What households, houses, places and organisations share: where they are."""

    address = _text(200, _("地址"))
    building_id = forms.TypedChoiceField(
        label=_("楼院"), required=False, coerce=int, empty_value=None
    )

    LOCATION = ("address", "building_id")

    def __init__(self, *args, actor=None, **kw):
        super().__init__(*args, **kw)
        buildings = list(
            building_list(actor=actor)
            .only("id", "road", "number", "compound", "building_no")
            .order_by("road", "number", "building_no", "id")[: BUILDING_CHOICES_MAX + 1]
        )
        if len(buildings) > BUILDING_CHOICES_MAX:
            del self.fields["building_id"]
        else:
            self.fields["building_id"].choices = [("", _("按地址定位"))] + [
                (b.id, b.address) for b in buildings
            ]


class HouseForm(ElementForm):
    unit = _text(10, _("单元"))
    room = _text(16, _("室"))
    area_m2 = forms.FloatField(
        label=_("面积 (平方米)"), required=False, min_value=0, max_value=100000
    )
    use = forms.ChoiceField(
        label=_("用途"), choices=House.Use.choices, initial=House.Use.RESIDENTIAL
    )
    occupancy = forms.ChoiceField(
        label=_("居住状态"), choices=House.Occupancy.choices, initial=House.Occupancy.UNKNOWN
    )
    owner_name = _text(40, _("产权人"))
    tenant_name = _text(40, _("承租人"))


class HouseholdForm(ElementForm):
    number = _text(32, _("户号"))
    house_id = _id_field(_("房屋编号"))


class _PlaceLike(ElementForm):
    name = _text(100, _("名称"), widget=forms.TextInput(attrs={"required": True}))
    lat = forms.FloatField(label=_("纬度"), required=False, min_value=-90, max_value=90)
    lng = forms.FloatField(label=_("经度"), required=False, min_value=-180, max_value=180)
    contact_name = _text(40, _("联系人"))
    contact_phone = _text(30, _("联系电话"))
    notes = _text(2000, _("备注"), widget=forms.Textarea(attrs={"rows": 3}))

    LOCATION = ("address", "building_id", "lat", "lng")
    KEEP_WHEN_BLANK = ("contact_phone",)

    def __init__(self, *args, editing: bool = False, masked: dict | None = None, **kw):
        super().__init__(*args, **kw)
        if editing:
            field = self.fields["contact_phone"]
            field.help_text = _("留空则不修改")
            if (masked or {}).get("contact_phone"):
                field.widget.attrs["placeholder"] = masked["contact_phone"]


class PlaceForm(_PlaceLike):
    kind = forms.ChoiceField(label=_("类型"), choices=[("", "—"), *Place.Kind.choices])
    field_order = ["kind", "name"]


class OrganizationForm(_PlaceLike):
    kind = forms.ChoiceField(label=_("类型"), choices=[("", "—"), *Organization.Kind.choices])
    credit_code = _text(30, _("统一社会信用代码"))
    field_order = ["kind", "name", "credit_code"]


class SetHeadForm(forms.Form):
    head = forms.IntegerField(label=_("户主"), min_value=1, max_value=MAX_ID)


class AddMemberForm(forms.Form):
    resident = forms.IntegerField(label=_("居民编号"), min_value=1, max_value=MAX_ID)
    relation = _text(16, _("与户主关系"))
