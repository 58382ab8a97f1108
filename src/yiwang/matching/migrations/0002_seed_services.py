"""The starting service catalogue (managed in the admin afterwards)."""

from django.db import migrations

SERVICES = [
    ("HAIRCUT", "上门理发", 1),
    ("MEAL", "助餐", 1),
    ("BATH", "助浴", 1.5),
    ("ESCORT", "陪诊", 3),
    ("REPAIR", "家电维修", 1.5),
    ("COUNSEL", "心理疏导", 1),
    ("LEGAL", "法律咨询", 1),
    ("SHOPPING", "代购", 1),
    ("CLEANING", "助洁", 2),
    ("CARE", "康复护理", 1.5),
    ("TUTOR", "课业辅导", 2),
    ("CHAT", "陪伴聊天", 1),
]


def seed(apps, schema_editor):
    Service = apps.get_model("matching", "Service")
    for i, (code, name, hours) in enumerate(SERVICES):
        Service.objects.update_or_create(
            code=code, defaults={"name": name, "default_hours": hours, "sort": i * 10}
        )


class Migration(migrations.Migration):
    dependencies = [("matching", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
