"""Demo intake: an Open311 client system with a known key file, cameras and event types."""

from __future__ import annotations

from django.conf import settings

from yiwang.cases.models import Category
from yiwang.intake.keys import api_client_create
from yiwang.intake.models import ApiClient, Camera, EventType

KEY_FILE = "demo_open311_key"


def build_intake(built) -> str:
    """Creates the demo client system once and keeps its key in var/ so `yiwang demo` can print
    it every time (the database keeps only its hash)."""
    path = settings.VAR_DIR / KEY_FILE
    if not ApiClient.objects.filter(name="演示市民App").exists():
        _client, key = api_client_create(actor=None, name="演示市民App")
        path.write_text(key)
    types = [
        ("street_vending", "占道经营", "SRHJ01"),
        ("garbage_pile", "垃圾堆积", "SRHJ02"),
        ("illegal_parking", "违规停车", "SRHJ03"),
    ]
    for code, name, category in types:
        cat = Category.objects.filter(code=category).first()
        if cat is not None:
            EventType.objects.get_or_create(code=code, defaults={"name": name, "category": cat})
    for i, grid in enumerate(built.grids[:: max(1, len(built.grids) // 12)]):
        if grid.center_lat is None:
            continue
        Camera.objects.get_or_create(
            camera_id=f"CAM-{i + 1:03d}",
            defaults={
                "name": f"{grid.name}监控点",
                "lat": grid.center_lat,
                "lng": grid.center_lng,
                "grid": grid,
            },
        )
    return demo_key()


def demo_key() -> str:
    path = settings.VAR_DIR / KEY_FILE
    return path.read_text().strip() if path.exists() else ""
