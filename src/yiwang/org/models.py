"""The district tree (district → street → community → grid → building), departments, grid
teams, the party chain mirrored on the tree, and the roles that bind users to a node."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class District(models.Model):
    code = models.CharField(_("编码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    # Bumped by every service that changes a grid boundary, so that each process's point → grid
    # index knows to rebuild itself (several web and worker processes must agree).
    grid_version = models.PositiveIntegerField(default=0, editable=False)
    # Likewise for the address base (roads, compounds, buildings) and its resolver index.
    address_version = models.PositiveIntegerField(default=0, editable=False)
    boundary = models.JSONField(_("边界"), null=True, blank=True)

    class Meta:
        verbose_name = _("区")
        verbose_name_plural = _("区")

    def __str__(self):
        return self.name


class Street(models.Model):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="streets")
    code = models.CharField(_("编码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    color = models.CharField(_("地图颜色"), max_length=9, default="#3b82f6")

    class Meta:
        verbose_name = _("街道")
        verbose_name_plural = _("街道")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="street_name_unique"),
        ]

    def __str__(self):
        return self.name


class Community(models.Model):
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="communities")
    code = models.CharField(_("编码"), max_length=24, unique=True)
    name = models.CharField(_("名称"), max_length=50)

    class Meta:
        verbose_name = _("社区")
        verbose_name_plural = _("社区")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["street", "name"], name="community_name_unique"),
        ]

    def __str__(self):
        return self.name


class Grid(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="grids")
    # Copied from the community by grid_create/grid_move so scope filters need no join.
    street = models.ForeignKey(Street, on_delete=models.PROTECT, related_name="grids")
    code = models.CharField(_("网格编码"), max_length=32, unique=True)
    name = models.CharField(_("网格名称"), max_length=60)
    boundary = models.JSONField(_("边界 (GeoJSON)"), null=True, blank=True)
    # Centroid, kept with the boundary for labels and nearest-grid answers.
    center_lat = models.FloatField(null=True, blank=True)
    center_lng = models.FloatField(null=True, blank=True)
    area_m2 = models.FloatField(_("面积 (平方米)"), default=0)

    class Meta:
        verbose_name = _("网格")
        verbose_name_plural = _("网格")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"


class Building(models.Model):
    """A building or courtyard (楼院), the smallest place the address base resolves to."""

    class Kind(models.TextChoices):
        BUILDING = "building", _("楼栋")
        COURTYARD = "courtyard", _("院落")
        BUNGALOW = "bungalow", _("平房")

    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="buildings")
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices, default=Kind.BUILDING)
    road = models.CharField(_("道路"), max_length=40, db_index=True)
    number = models.CharField(_("门牌号"), max_length=20, help_text=_("如 168、22甲、168-1"))
    compound = models.CharField(_("小区"), max_length=60, blank=True, db_index=True)
    building_no = models.CharField(_("楼号"), max_length=20, blank=True)
    name = models.CharField(_("名称"), max_length=120, blank=True)
    lat = models.FloatField(_("纬度"))
    lng = models.FloatField(_("经度"))
    floors = models.PositiveSmallIntegerField(_("层数"), null=True, blank=True)
    units = models.PositiveSmallIntegerField(_("单元数"), null=True, blank=True)

    class Meta:
        verbose_name = _("楼院")
        verbose_name_plural = _("楼院")
        ordering = ["road", "number", "building_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["road", "number", "compound", "building_no"], name="building_address_unique"
            ),
        ]

    def __str__(self):
        return self.address

    @property
    def address(self) -> str:
        parts = [f"{self.road}{self.number}号"]
        if self.compound:
            parts.append(self.compound)
        if self.building_no:
            parts.append(f"{self.building_no}号楼")
        return "".join(parts)


class Department(models.Model):
    """A unit that handles work: a district department (区直部门) or a street-level unit such as
    the street's law-enforcement squad (综合行政执法中队)."""

    class Kind(models.TextChoices):
        DISTRICT = "district", _("区直部门")
        STREET_UNIT = "street_unit", _("街道单位")

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    short_name = models.CharField(_("简称"), max_length=20, blank=True)
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices, default=Kind.DISTRICT)
    street = models.ForeignKey(
        Street, on_delete=models.PROTECT, null=True, blank=True, related_name="units"
    )
    is_pilot = models.BooleanField(_("首批试点"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["kind", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="district", street__isnull=True)
                | Q(kind="street_unit", street__isnull=False),
                name="department_street_matches_kind",
            ),
        ]

    def __str__(self):
        return self.name


class TeamRole(models.TextChoices):
    GRID_LEADER = "grid_leader", _("网格长")
    GRID_WORKER = "grid_worker", _("网格员")
    DEPARTMENT_MEMBER = "department_member", _("部门专员")
    POLICE = "police", _("社区民警")
    VOLUNTEER = "volunteer", _("志愿者")
    PARTY_HOUSEHOLD = "party_household", _("党员中心户")


class GridTeamMember(models.Model):
    """业务网格化: the people a grid's work is sent to, not the grid worker alone."""

    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="team")
    role = models.CharField(_("队伍角色"), max_length=20, choices=TeamRole.choices)
    name = models.CharField(_("姓名"), max_length=40)
    phone = models.CharField(_("电话"), max_length=20, blank=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="grid_members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="grid_memberships",
    )

    class Meta:
        verbose_name = _("网格队伍成员")
        verbose_name_plural = _("网格队伍成员")
        ordering = ["grid", "role", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="department_member") | Q(department__isnull=False),
                name="department_member_has_department",
            ),
        ]

    def __str__(self):
        return f"{self.get_role_display()} {self.name}"


class PartyOrg(models.Model):
    """The party chain (党建动力主轴), mirrored on the administrative tree node by node."""

    class Level(models.TextChoices):
        DISTRICT_COMMITTEE = "district_committee", _("区委")
        STREET_WORKING_COMMITTEE = "street_working_committee", _("街道党工委")
        COMMUNITY_COMMITTEE = "community_committee", _("社区党委")
        GRID_BRANCH = "grid_branch", _("网格党支部")
        BUILDING_GROUP = "building_group", _("楼院党小组")

    level = models.CharField(_("层级"), max_length=32, choices=Level.choices)
    name = models.CharField(_("名称"), max_length=80)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    district = models.OneToOneField(
        District, on_delete=models.CASCADE, null=True, blank=True, related_name="party_org"
    )
    street = models.OneToOneField(
        Street, on_delete=models.CASCADE, null=True, blank=True, related_name="party_org"
    )
    community = models.OneToOneField(
        Community, on_delete=models.CASCADE, null=True, blank=True, related_name="party_org"
    )
    grid = models.OneToOneField(
        Grid, on_delete=models.CASCADE, null=True, blank=True, related_name="party_org"
    )
    # A 楼院党小组 covers one or more buildings of its grid.
    buildings = models.ManyToManyField(Building, blank=True, related_name="party_groups")
    secretary = models.CharField(_("书记/组长"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("党组织")
        verbose_name_plural = _("党组织")
        ordering = ["level", "id"]

    def __str__(self):
        return self.name


class PartyCentralHousehold(models.Model):
    """党员中心户: a party member's household that looks after the households around it.
    The households looked after are rooms of the group's buildings; the registry links its
    Household rows to this record once people are known."""

    party_group = models.ForeignKey(
        PartyOrg, on_delete=models.CASCADE, related_name="central_households"
    )
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="+")
    unit = models.CharField(_("单元"), max_length=10, blank=True)
    room = models.CharField(_("室"), max_length=10)
    head_name = models.CharField(_("户主"), max_length=40)
    looks_after = models.JSONField(
        _("联系户"), default=list, blank=True, help_text=_('所联系的房间,如 ["1单元301"]')
    )

    class Meta:
        verbose_name = _("党员中心户")
        verbose_name_plural = _("党员中心户")

    def __str__(self):
        return f"{self.building} {self.unit}{self.room} {self.head_name}"


class RoleKind(models.TextChoices):
    DISTRICT_LEADER = "district_leader", _("区级领导")
    DISTRICT_ADMIN = "district_admin", _("区级管理员")
    AUDITOR = "auditor", _("区级审计员")
    STREET_STAFF = "street_staff", _("街道工作人员")
    STREET_LEADER = "street_leader", _("街道负责人")
    COMMUNITY_STAFF = "community_staff", _("社区工作人员")
    GRID_WORKER = "grid_worker", _("网格员")
    DEPARTMENT_STAFF = "department_staff", _("部门人员")


# Which tree level each role kind binds to; one place, read by the model check and the scope.
ROLE_LEVEL = {
    RoleKind.DISTRICT_LEADER: "district",
    RoleKind.DISTRICT_ADMIN: "district",
    RoleKind.AUDITOR: "district",
    RoleKind.STREET_STAFF: "street",
    RoleKind.STREET_LEADER: "street",
    RoleKind.COMMUNITY_STAFF: "community",
    RoleKind.GRID_WORKER: "grid",
    RoleKind.DEPARTMENT_STAFF: "department",
}


class Role(models.Model):
    """A user's role, bound to exactly one node of the tree or to a department."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="roles"
    )
    kind = models.CharField(_("角色"), max_length=20, choices=RoleKind.choices)
    district = models.ForeignKey(District, on_delete=models.CASCADE, null=True, blank=True)
    street = models.ForeignKey(Street, on_delete=models.CASCADE, null=True, blank=True)
    community = models.ForeignKey(Community, on_delete=models.CASCADE, null=True, blank=True)
    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, null=True, blank=True)
    department = models.ForeignKey(Department, on_delete=models.CASCADE, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        kind__in=["district_leader", "district_admin", "auditor"],
                        district__isnull=False,
                        street__isnull=True,
                        community__isnull=True,
                        grid__isnull=True,
                        department__isnull=True,
                    )
                    | Q(
                        kind__in=["street_staff", "street_leader"],
                        district__isnull=True,
                        street__isnull=False,
                        community__isnull=True,
                        grid__isnull=True,
                        department__isnull=True,
                    )
                    | Q(
                        kind="community_staff",
                        district__isnull=True,
                        street__isnull=True,
                        community__isnull=False,
                        grid__isnull=True,
                        department__isnull=True,
                    )
                    | Q(
                        kind="grid_worker",
                        district__isnull=True,
                        street__isnull=True,
                        community__isnull=True,
                        grid__isnull=False,
                        department__isnull=True,
                    )
                    | Q(
                        kind="department_staff",
                        district__isnull=True,
                        street__isnull=True,
                        community__isnull=True,
                        grid__isnull=True,
                        department__isnull=False,
                    )
                ),
                name="role_bound_to_its_level",
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_kind_display()} · {self.node}"

    @property
    def node(self):
        return self.district or self.street or self.community or self.grid or self.department


class ApiToken(models.Model):
    """A bearer token for API clients; only its hash is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("名称"), max_length=60)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
