import pytest

from tests.cases.conftest import (  # noqa: F401  (shared fixtures)
    _fresh_calendar,
    community_a_staff,
    depts,
    handlers,
    report,
    resident,
    seed_categories,
)
from yiwang.intake.keys import api_client_create


@pytest.fixture
def cat(depts):  # noqa: F811  (the fixture imported above)
    """The seeded categories as they come: no owning departments, so hotline cases go to the
    street's squad unless a test links one."""
    from yiwang.cases.models import Category

    seed_categories()
    return {c.code: c for c in Category.objects.all()}


@pytest.fixture
def api_key(db):
    _client, key = api_client_create(actor=None, name="市民App")
    return key


@pytest.fixture
def squads(tree):
    """Each street's law-enforcement squad, where hotline cases are routed by address."""
    from yiwang.org.services import department_create

    return {
        street.id: department_create(
            actor=None,
            code=f"{street.code}ZF",
            name=f"{street.name}综合行政执法中队",
            kind="street_unit",
            street=street,
        )
        for street in (tree.street_a,)
    }
