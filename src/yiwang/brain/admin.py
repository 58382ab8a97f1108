from django.contrib import admin

from .models import Rubric, RubricItem, StarRating


class RubricItemInline(admin.TabularInline):
    model = RubricItem
    extra = 0


@admin.register(Rubric)
class RubricAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active", "created_at")
    inlines = [RubricItemInline]

    # Rubrics are versions: a new one is saved through the API/service (which validates the
    # thresholds); editing an old one would change what past ratings mean.
    def has_change_permission(self, request, obj=None):
        return False


@admin.register(StarRating)
class StarRatingAdmin(admin.ModelAdmin):
    list_display = ("grid", "month", "stars", "score", "rank_district", "published_at")
    list_filter = ("month", "stars", "street")
    readonly_fields = [f.name for f in StarRating._meta.fields]

    def has_add_permission(self, request):
        return False
