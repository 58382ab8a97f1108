from django.contrib import admin

from .models import AccessLog, ImportJob, ImportSource, Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "sort", "is_active")


@admin.register(ImportSource)
class ImportSourceAdmin(admin.ModelAdmin):
    list_display = ("name", "label", "updated_at")


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """For looking into a job; jobs are created and advanced by registry.jobs only."""

    list_display = ("id", "created_at", "actor", "file_name", "commit", "status", "done_rows")
    list_filter = ("status", "commit")
    readonly_fields = [f.name for f in ImportJob._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Read-only, and only for district auditors: the log is evidence."""

    list_display = ("at", "actor_name", "action", "purpose", "record_count", "channel")
    list_filter = ("action", "channel")
    search_fields = ("actor_name",)

    def _auditor(self, request) -> bool:
        from .selectors import can_read_access_log

        return can_read_access_log(request.user)

    def has_module_permission(self, request):
        return self._auditor(request)

    def has_view_permission(self, request, obj=None):
        return self._auditor(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
