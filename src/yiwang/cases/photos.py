"""Photos: real images only, size-limited, with the EXIF location read when present."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import Attachment, Case

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000


def _gps(exif) -> tuple[float, float] | None:
    try:
        gps = exif.get_ifd(0x8825)
    except Exception:  # malformed EXIF is common and never a reason to refuse the photo
        return None
    if not gps or 2 not in gps or 4 not in gps:
        return None

    def deg(values, ref):
        d, m, s = (float(v) for v in values)
        x = d + m / 60 + s / 3600
        return -x if ref in ("S", "W") else x

    try:
        return deg(gps[2], gps.get(1, "N")), deg(gps[4], gps.get(3, "E"))
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def check_image(upload) -> dict:
    """Validates an uploaded file as a JPEG/PNG/WebP image; returns its size and EXIF point."""
    from PIL import Image, UnidentifiedImageError

    if upload.size > MAX_BYTES:
        raise ValidationError({"photo": [_("照片不能超过 10 MB")]})
    try:
        upload.seek(0)
        with Image.open(upload) as img:
            if img.format not in ("JPEG", "PNG", "WEBP"):
                raise ValidationError({"photo": [_("只接受 JPEG、PNG 或 WebP 图片")]})
            if img.width * img.height > MAX_PIXELS:
                raise ValidationError({"photo": [_("图片像素过大")]})
            img.verify()
            facts = {"width": img.width, "height": img.height, "point": None}
        upload.seek(0)
        with Image.open(upload) as img:
            facts["point"] = _gps(img.getexif())
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise ValidationError({"photo": [_("文件不是有效的图片")]}) from None
    upload.seek(0)
    return facts


def attach_photo(*, actor, case: Case, upload, kind: str = "before", event=None) -> Attachment:
    facts = check_image(upload)
    point = facts["point"]
    return Attachment.objects.create(
        case=case,
        event=event,
        kind=kind,
        file=upload,
        width=facts["width"],
        height=facts["height"],
        exif_lat=point[0] if point else None,
        exif_lng=point[1] if point else None,
        uploaded_by=actor if actor is not None and actor.is_authenticated else None,
    )
