"""A catch-all category, so that a hotline call the classifier cannot place still lands."""

from django.db import migrations


def seed(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    parent, _ = Category.objects.get_or_create(code="QT", defaults={"name": "其他", "order": 99})
    Category.objects.get_or_create(
        code="QT01",
        defaults={
            "parent": parent,
            "name": "其他问题",
            "default_mode": "assigned",
            "response_hours": 2,
            "resolve_hours": 40,
            "duplicate_radius_m": 50,
            "street_unit_suffix": "ZF",
            "order": 100,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_seed_categories")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
