"""Case fixtures: categories linked to departments, department handlers, a resident."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import centre
from yiwang.cases import deadlines
from yiwang.cases.models import Category
from yiwang.cases.services import case_report
from yiwang.org.models import RoleKind
from yiwang.org.services import department_create, role_grant


@pytest.fixture(autouse=True)
def _fresh_calendar():
    deadlines.reset_calendar()
    yield
    deadlines.reset_calendar()


def user(username, kind=None, node=None):
    u = get_user_model().objects.create_user(username=username, password="pw", first_name=username)
    if kind:
        role_grant(actor=None, user=u, kind=kind, node=node)
    return u


@pytest.fixture
def depts(tree):
    zj = department_create(actor=None, code="ZJ", name="区住房和城乡建设局", short_name="住建")
    sthj = department_create(
        actor=None, code="STHJ", name="市北生态环境分局", short_name="生态环境"
    )
    return {"cg": tree.chengguan, "zj": zj, "sthj": sthj}


@pytest.fixture
def handlers(tree, depts):
    return {
        "cg": user("cg_handler", RoleKind.DEPARTMENT_STAFF, depts["cg"]),
        "zj": user("zj_handler", RoleKind.DEPARTMENT_STAFF, depts["zj"]),
        "sthj": user("sthj_handler", RoleKind.DEPARTMENT_STAFF, depts["sthj"]),
    }


@pytest.fixture
def resident(tree):
    return user("resident_liu")


@pytest.fixture
def community_a_staff(tree):
    return user("community_a", RoleKind.COMMUNITY_STAFF, tree.community_a)


@pytest.fixture
def street_b_staff(tree):
    return user("street_b", RoleKind.STREET_STAFF, tree.street_b)


@pytest.fixture
def street_a_leader(tree):
    return user("street_a_head", RoleKind.STREET_LEADER, tree.street_a)


def seed_categories():
    """The migrations' seed, again: transactional tests flush the tables it filled."""
    from yiwang.demo import ensure_seed_data

    ensure_seed_data()


@pytest.fixture
def cat(depts):
    """Categories by code, with owning departments as a district would set them."""
    seed_categories()
    cats = {c.code: c for c in Category.objects.all()}
    cats["SRHJ01"].department = depts["cg"]
    cats["SRHJ01"].save()
    cats["WZDJ01"].department = depts["zj"]
    cats["WZDJ01"].save()
    return cats


@pytest.fixture
def report(cat, resident):
    """Reports a case as the resident (or another actor) at grid A1's centre by default."""

    def make(code="SRHJ04", *, actor=None, i=0, mode=None, **kw):
        lat, lng = centre(i)
        return case_report(
            actor=actor or resident,
            channel=kw.pop("channel", "resident"),
            category=cat[code],
            title=kw.pop("title", "小区门口乱堆乱放"),
            description=kw.pop("description", "市民刘先生反映小区门口堆放杂物,请尽快清理并答复。"),
            lat=kw.pop("lat", lat),
            lng=kw.pop("lng", lng),
            reporter_name=kw.pop("reporter_name", "刘先生"),
            reporter_phone=kw.pop("reporter_phone", "13800001111"),
            mode=mode,
            **kw,
        )

    return make


def jpeg(name="after.jpg", size=(64, 48)):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buf, format="JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")
