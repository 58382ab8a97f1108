"""The managed list of special-care tags (特殊关怀标签) every district starts with."""

from django.db import migrations

TAGS = [
    ("living_alone_elderly", "独居老人"),
    ("advanced_age", "高龄"),
    ("disabled", "残疾"),
    ("subsistence", "低保"),
    ("entitled_group", "优抚对象"),
    ("left_behind_child", "留守儿童"),
    ("key_person", "重点人员"),
    ("empty_nest_elderly", "空巢老人"),
    ("severe_illness", "大病"),
    ("veteran", "退役军人"),
]


def seed(apps, schema_editor):
    Tag = apps.get_model("registry", "Tag")
    for i, (code, name) in enumerate(TAGS):
        Tag.objects.get_or_create(code=code, defaults={"name": name, "sort": i})


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
