from django.contrib import admin

from .models import (
    ApiToken,
    Building,
    Community,
    Department,
    District,
    Grid,
    GridTeamMember,
    PartyCentralHousehold,
    PartyOrg,
    Role,
    Street,
)


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "grid_version", "address_version"]
    readonly_fields = ["grid_version", "address_version"]


class CommunityInline(admin.TabularInline):
    model = Community
    extra = 0
    fields = ["code", "name"]
    show_change_link = True


@admin.register(Street)
class StreetAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "district", "color"]
    search_fields = ["code", "name"]
    inlines = [CommunityInline]


class GridInline(admin.TabularInline):
    model = Grid
    extra = 0
    fields = ["code", "name"]
    readonly_fields = ["code", "name"]
    show_change_link = True
    can_delete = False


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "street"]
    list_filter = ["street"]
    search_fields = ["code", "name"]
    inlines = [GridInline]


class TeamInline(admin.TabularInline):
    model = GridTeamMember
    extra = 0
    autocomplete_fields = ["department", "user"]


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "community", "street", "area_m2"]
    list_filter = ["street"]
    search_fields = ["code", "name", "community__name"]
    list_select_related = ["community", "street"]
    # Boundaries change through the import (tiling is checked there), not by hand here.
    readonly_fields = ["street", "boundary", "center_lat", "center_lng", "area_m2"]
    inlines = [TeamInline]


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "grid", "lat", "lng"]
    list_filter = ["kind", "grid__street"]
    search_fields = ["road", "number", "compound", "name"]
    list_select_related = ["grid"]
    raw_id_fields = ["grid"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "short_name", "kind", "street", "is_pilot", "is_active"]
    list_filter = ["kind", "is_pilot", "is_active"]
    search_fields = ["code", "name", "short_name"]


@admin.register(GridTeamMember)
class GridTeamMemberAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "grid", "department", "user"]
    list_filter = ["role", "department"]
    search_fields = ["name", "grid__code", "grid__name"]
    raw_id_fields = ["grid", "user"]


@admin.register(PartyOrg)
class PartyOrgAdmin(admin.ModelAdmin):
    list_display = ["name", "level", "parent", "secretary"]
    list_filter = ["level"]
    search_fields = ["name"]
    raw_id_fields = ["parent", "district", "street", "community", "grid"]
    filter_horizontal = ["buildings"]


@admin.register(PartyCentralHousehold)
class PartyCentralHouseholdAdmin(admin.ModelAdmin):
    list_display = ["head_name", "building", "unit", "room", "party_group"]
    raw_id_fields = ["party_group", "building"]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "district", "street", "community", "grid", "department"]
    list_filter = ["kind"]
    search_fields = ["user__username"]
    raw_id_fields = ["user", "grid"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["key_hash", "prefix", "created_at", "last_used_at"]
