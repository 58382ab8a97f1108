"""Open311 API keys per client system: issued and revoked here (the admin and the command line
call these), looked up by hash, rate-limited per key."""

from __future__ import annotations

import hashlib
import secrets

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from .models import ApiClient


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_client_create(*, actor, name: str, rate_per_minute: int = 600) -> tuple[ApiClient, str]:
    """Returns the client and its key; the key is shown once and never stored."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied("api_client_create")
    key = secrets.token_urlsafe(24)
    client = ApiClient.objects.create(
        name=name, key_hash=_hash(key), prefix=key[:6], rate_per_minute=rate_per_minute
    )
    return client, key


def api_client_revoke(*, actor, client: ApiClient) -> ApiClient:
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied("api_client_revoke")
    client.revoked_at = timezone.now()
    client.save(update_fields=["revoked_at"])
    return client


def client_for_key(key: str | None) -> ApiClient | None:
    if not key:
        return None
    return ApiClient.objects.filter(key_hash=_hash(key), revoked_at__isnull=True).first()


def within_rate(client: ApiClient) -> bool:
    """A fixed one-minute window per key, counted in the cache (shared when the cache is)."""
    window = int(timezone.now().timestamp() // 60)
    slot = f"open311:{client.id}:{window}"
    cache.add(slot, 0, timeout=120)
    try:
        count = cache.incr(slot)
    except ValueError:
        cache.set(slot, 1, timeout=120)
        count = 1
    return count <= client.rate_per_minute
