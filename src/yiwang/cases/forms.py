"""Page forms for cases. They parse and check the shape of input only; the rules (what a state
allows, who may act, which outcome needs a reason) stay in the services, whose field errors
the views put back on these forms."""

from __future__ import annotations

import json
import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yiwang.org.models import Department, Street

from .models import Category, ReplyTemplate
from .photos import check_image
from .states import OPEN_STATES, Action, Level, Mode, Outcome, Satisfaction, State

# Service error keys → the form field that shows them (the service and the page name a few
# inputs differently).
SERVICE_FIELDS = {
    "location": "lat",
    "into": "duplicate_of",
    "report": "note",
    "assist_ids": "assists",
    "lead_id": "lead",
    "photo": "photo",
    "after_photo": "photo",
}


def category_choices(leaves_only: bool = True) -> list:
    """Two-level choices: each top category an option group of its leaves."""
    from .selectors import category_tree

    choices: list = [("", _("请选择类别"))]
    for parent in category_tree():
        children = [(c.id, c.name) for c in parent.children.all() if c.is_active]
        if leaves_only:
            if children:
                choices.append((parent.name, children))
        else:
            choices.append((parent.id, parent.name))
            choices.extend((cid, f"— {name}") for cid, name in children)
    return choices


def put_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Puts a service's ValidationError on the form: on the field it names, else on the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.message_dict.items():
        field = SERVICE_FIELDS.get(key, key)
        if field in form.fields:
            form.add_error(field, errors)
        else:
            form.add_error(None, errors)


def error_summary(form: forms.Form) -> list[str]:
    """ "标题:标题不能为空" — every error with the Chinese name of its field."""
    lines = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        if name == "lat":
            label = _("位置")
        for message in errors:
            lines.append(f"{label}:{message}" if label else str(message))
    return lines


# -- desk queue -----------------------------------------------------------------------------


class QueueFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("状态"), required=False)
    overdue = forms.BooleanField(label=_("只看超期"), required=False)
    category = forms.TypedChoiceField(label=_("类别"), required=False, coerce=int, empty_value=None)
    q = forms.CharField(label=_("编号或标题"), required=False, max_length=60)
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("全部状态"))] + [
            (s.value, s.label) for s in State if s in OPEN_STATES
        ]
        self.fields["category"].choices = [("", _("全部类别"))] + category_choices(False)[1:]


# -- case actions ---------------------------------------------------------------------------

# Which inputs each action asks for, and which of them it requires (others the service checks).
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    Action.ACCEPT: ("note",),
    Action.REJECT: ("reject_outcome", "reason", "duplicate_of"),
    Action.DISPATCH: ("lead", "assists", "to_level", "mode", "note"),
    Action.CHECK_IN: ("note",),
    Action.START: ("note",),
    Action.RETURN: ("reason",),
    Action.ESCALATE: ("reason",),
    Action.PART_DONE: ("note",),
    Action.REPLY: ("template", "reply"),
    Action.VERIFY: ("note",),
    Action.VERIFY_FAIL: ("note",),
    Action.CLOSE: ("outcome", "note", "transferred_to"),
    Action.RATE: ("satisfaction", "note"),
    Action.REOPEN: ("reason",),
    Action.MERGE: ("duplicate_of", "note"),
    Action.TAKE: ("note",),
}
REQUIRED = {
    Action.RETURN: ("reason",),
    Action.ESCALATE: ("reason",),
    Action.REOPEN: ("reason",),
    Action.PART_DONE: ("note",),
    Action.VERIFY_FAIL: ("note",),
    Action.MERGE: ("duplicate_of",),
    Action.CLOSE: ("outcome",),
    Action.RATE: ("satisfaction",),
}
NOTE_LABELS = {
    Action.PART_DONE: _("办理情况"),
    Action.VERIFY_FAIL: _("未通过的情况"),
    Action.CLOSE: _("结果说明"),
    Action.RATE: _("评价说明"),
}
REASON_LABELS = {
    Action.RETURN: _("退单理由"),
    Action.ESCALATE: _("上报理由"),
    Action.REOPEN: _("重办理由"),
    Action.REJECT: _("不予受理理由"),
}
CLOSE_OUTCOMES = (Outcome.SOLVED, Outcome.PARTLY, Outcome.UNSOLVABLE, Outcome.NOT_OURS)


class ActionForm(forms.Form):
    """One form for every action; it keeps only the inputs its action asks for."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    template = forms.ChoiceField(label=_("答复模板"), required=False)
    reply = forms.CharField(
        label=_("答复内容"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    outcome = forms.ChoiceField(
        label=_("办结结果"),
        required=False,
        choices=[("", _("请选择"))] + [(o.value, o.label) for o in CLOSE_OUTCOMES],
    )
    reject_outcome = forms.ChoiceField(
        label=_("结果"),
        required=False,
        choices=[(Outcome.INVALID.value, Outcome.INVALID.label)]
        + [(Outcome.DUPLICATE.value, Outcome.DUPLICATE.label)],
    )
    reason = forms.CharField(label=_("理由"), required=False, max_length=500)
    transferred_to = forms.CharField(
        label=_("已移交单位 (非本单位职责时填写)"), required=False, max_length=100
    )
    duplicate_of = forms.CharField(label=_("原事件编号"), required=False, max_length=24)
    lead = forms.ModelChoiceField(
        label=_("主办部门"), required=False, queryset=Department.objects.none()
    )
    assists = forms.ModelMultipleChoiceField(
        label=_("协办部门 (联办)"),
        required=False,
        queryset=Department.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    to_level = forms.ChoiceField(
        label=_("或下派到"),
        required=False,
        choices=[("", _("不下派"))] + [(lv.value, lv.label) for lv in Level],
    )
    mode = forms.ChoiceField(
        label=_("办理方式"),
        required=False,
        choices=[("", _("不变"))] + [(m.value, m.label) for m in Mode],
    )
    satisfaction = forms.ChoiceField(
        label=_("满意度"),
        required=False,
        choices=[(s.value, s.label) for s in Satisfaction],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("说明"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, action: str, case=None, unit: str = "", **kwargs):
        kwargs.setdefault("prefix", action)
        super().__init__(*args, **kwargs)
        self.action = action
        keep = {"expected_version", *ACTION_FIELDS.get(action, ())}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        for name in REQUIRED.get(action, ()):
            self.fields[name].required = True
        if "note" in self.fields and action in NOTE_LABELS:
            self.fields["note"].label = NOTE_LABELS[action]
        if "reason" in self.fields and action in REASON_LABELS:
            self.fields["reason"].label = REASON_LABELS[action]
        if action == Action.REJECT:
            self.fields["duplicate_of"].label = _("原事件编号 (重复件时填写)")
        if "lead" in self.fields:
            departments = Department.objects.filter(is_active=True).order_by("kind", "code")
            self.fields["lead"].queryset = departments
            self.fields["assists"].queryset = departments
        self.templates: list[tuple[int, str, str]] = []
        if "template" in self.fields and case is not None:
            rows = ReplyTemplate.objects.filter(
                Q(category_id=case.category_id) | Q(category__isnull=True)
            ).order_by("id")
            self.templates = [(t.id, t.title, t.text.replace("{unit}", unit)) for t in rows]
            self.fields["template"].choices = [("", _("不使用模板"))] + [
                (str(i), title) for i, title, _text in self.templates
            ]
            # The page's script fills the reply from the chosen template.
            self.fields["template"].widget.attrs["data-templates"] = json.dumps(
                {str(i): text for i, _title, text in self.templates}, ensure_ascii=False
            )

    def clean(self):
        data = super().clean()
        if self.action == Action.REPLY and not (data.get("reply") or "").strip():
            chosen = data.get("template")
            texts = {str(i): text for i, _title, text in self.templates}
            if chosen in texts:
                data["reply"] = texts[chosen]
            else:
                self.add_error("reply", _("答复内容不能为空"))
        return data

    def action_input(self) -> dict:
        """The cleaned input in the shape of the API's ActionIn."""
        d = self.cleaned_data
        out = {
            "expected_version": d.get("expected_version"),
            "note": d.get("note") or "",
            "reason": d.get("reason") or "",
            "reply": d.get("reply") or "",
            "outcome": d.get("outcome") or d.get("reject_outcome") or "",
            "transferred_to": d.get("transferred_to") or "",
            "satisfaction": d.get("satisfaction") or "",
            "duplicate_of": (d.get("duplicate_of") or "").strip() or None,
            "to_level": d.get("to_level") or None,
            "mode": d.get("mode") or None,
        }
        if d.get("lead") is not None:
            out["lead_id"] = d["lead"].id
        if d.get("assists"):
            out["assist_ids"] = [x.id for x in d["assists"]]
        return out


# -- report ---------------------------------------------------------------------------------


class ReportForm(forms.Form):
    category = forms.TypedChoiceField(label=_("问题类别"), coerce=int)
    title = forms.CharField(label=_("标题"), max_length=120)
    description = forms.CharField(
        label=_("问题描述"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    photo = forms.FileField(label=_("现场照片"), required=False)
    lat = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-90, max_value=90)
    lng = forms.FloatField(widget=forms.HiddenInput, required=False, min_value=-180, max_value=180)
    address = forms.CharField(label=_("地址"), required=False, max_length=300)
    reporter_name = forms.CharField(label=_("称呼 (选填)"), required=False, max_length=40)
    reporter_phone = forms.CharField(label=_("联系电话 (选填)"), required=False, max_length=20)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=80)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices(True)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)
        self.fields["photo"].widget.attrs["accept"] = "image/jpeg,image/png,image/webp"
        self.fields["title"].widget.attrs["placeholder"] = _("如:小区门口乱堆乱放")
        self.fields["address"].widget.attrs["placeholder"] = _("如:伊春路168号3号楼")

    def clean_category(self):
        value = self.cleaned_data["category"]
        category = Category.objects.filter(id=value, is_active=True, parent__isnull=False).first()
        if category is None:
            raise ValidationError(_("请选择具体的二级类别"))
        return category

    def clean_photo(self):
        upload = self.cleaned_data.get("photo")
        if not upload:
            return None
        try:
            check_image(upload)
        except ValidationError as exc:
            raise ValidationError(exc.message_dict.get("photo", exc.messages)) from None
        return upload

    def clean(self):
        data = super().clean()
        has_point = data.get("lat") is not None and data.get("lng") is not None
        if not has_point and not (data.get("address") or "").strip():
            self.add_error("lat", _("请在地图上点选位置或填写地址"))
        return data


class NearbyForm(forms.Form):
    category = forms.ModelChoiceField(
        queryset=Category.objects.filter(is_active=True, parent__isnull=False)
    )
    lat = forms.FloatField(min_value=-90, max_value=90)
    lng = forms.FloatField(min_value=-180, max_value=180)


class RateForm(forms.Form):
    satisfaction = forms.ChoiceField(
        label=_("满意度"),
        choices=[(s.value, s.label) for s in Satisfaction],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("原因或意见"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# -- wall -----------------------------------------------------------------------------------


class WallFilterForm(forms.Form):
    street = forms.ModelChoiceField(
        label=_("街道"), required=False, queryset=Street.objects.all(), empty_label=_("全部街道")
    )
    category = forms.ModelChoiceField(
        label=_("类别"),
        required=False,
        queryset=Category.objects.filter(parent__isnull=True, is_active=True),
        empty_label=_("全部类别"),
    )
    page = forms.IntegerField(required=False, min_value=1)


class WallReviewForm(forms.Form):
    summary = forms.CharField(
        label=_("市民反映 (已脱敏)"), widget=forms.Textarea(attrs={"rows": 3})
    )
    reply = forms.CharField(label=_("答复"), widget=forms.Textarea(attrs={"rows": 4}))
    decision = forms.ChoiceField(
        choices=[("approve", _("审核发布")), ("withdraw", _("不予发布"))],
    )
