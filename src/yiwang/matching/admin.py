from django.contrib import admin

from .models import Application, Demand, OpenCall, Partner, Provider, Service, ServiceRecord


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "default_hours", "is_active", "sort"]
    list_editable = ["is_active", "sort"]


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "verification", "active_count", "completed_count"]
    list_filter = ["kind", "verification"]
    search_fields = ["name"]
    raw_id_fields = ["resident", "organization", "user", "home_grid"]
    readonly_fields = [
        "active_count",
        "completed_count",
        "hours_total",
        "rating_sum",
        "rating_count",
    ]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["organization", "is_red_partner", "joined_at"]
    raw_id_fields = ["organization"]
    filter_horizontal = ["members"]


# Demands, calls and records change through the services (offers, acceptance, completion);
# the admin shows them read-only.
class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Demand)
class DemandAdmin(ReadOnlyAdmin):
    list_display = ["number", "service", "status", "urgency", "window_start", "community"]
    list_filter = ["status", "urgency", "service"]
    search_fields = ["number"]


@admin.register(OpenCall)
class OpenCallAdmin(ReadOnlyAdmin):
    list_display = ["number", "title", "status", "apply_by"]
    list_filter = ["status"]


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = ["call", "partner", "status", "score"]


@admin.register(ServiceRecord)
class ServiceRecordAdmin(ReadOnlyAdmin):
    list_display = ["kind", "ref", "at", "hours"]
    list_filter = ["kind"]
