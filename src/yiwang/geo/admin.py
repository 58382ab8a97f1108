from django.contrib import admin

from .models import Compound, Road


@admin.register(Road)
class RoadAdmin(admin.ModelAdmin):
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(Compound)
class CompoundAdmin(admin.ModelAdmin):
    list_display = ["name", "road", "number", "grid"]
    search_fields = ["name", "road__name"]
    raw_id_fields = ["road", "grid"]
