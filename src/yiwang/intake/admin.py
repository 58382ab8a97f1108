from django.contrib import admin, messages

from .keys import api_client_create, api_client_revoke
from .models import ApiClient, Camera, EventType, HotlineTicket, Outbox, ServiceAttribute


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "rate_per_minute", "created_at", "revoked_at"]
    readonly_fields = ["key_hash", "prefix", "created_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        client, key = api_client_create(
            actor=request.user, name=obj.name, rate_per_minute=obj.rate_per_minute
        )
        obj.pk = client.pk
        messages.warning(request, f"api_key(只显示一次):{key}")

    def get_fields(self, request, obj=None):
        return ["name", "rate_per_minute"] if obj is None else super().get_fields(request, obj)

    @admin.action(description="吊销所选 api_key")
    def revoke(self, request, queryset):
        for client in queryset.filter(revoked_at__isnull=True):
            api_client_revoke(actor=request.user, client=client)


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin):
    list_display = ["category", "code", "datatype", "required", "order"]


@admin.register(HotlineTicket)
class HotlineTicketAdmin(admin.ModelAdmin):
    list_display = ["ticket_no", "called_at", "caller", "case", "problem"]
    search_fields = ["ticket_no", "address"]
    raw_id_fields = ["case"]


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin):
    list_display = [
        "case",
        "target",
        "status",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "last_error",
    ]
    list_filter = ["status", "target"]
    raw_id_fields = ["case"]


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    list_display = ["camera_id", "name", "grid"]
    raw_id_fields = ["grid"]


@admin.register(EventType)
class EventTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "category", "merge_window_minutes"]
