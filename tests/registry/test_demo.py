"""The demo registry generator: consistent rows, valid identifiers, deterministic."""

from yiwang.demo.registry import build_registry
from yiwang.registry.idcard import credit_code_parse, id_parse
from yiwang.registry.models import House, Household, Organization, Place, Resident


def test_build_registry_small(tree):
    counts = build_registry(None, scale="small", seed=3)
    assert 9_000 <= counts["residents"] <= 10_100
    assert Resident.objects.count() == counts["residents"]
    assert Household.objects.count() == counts["households"] > 3_000
    assert House.objects.count() == counts["houses"]
    sample = list(Resident.objects.order_by("id")[:200])
    for r in sample:
        if r.id_number:
            parsed = id_parse(r.id_number)
            assert parsed.birth_date == r.birth_date and parsed.gender == r.gender
        assert r.grid_id and r.house_id and r.household_id
    head = Household.objects.order_by("id").first().head
    assert head.relation_to_head == "户主"
    assert Place.objects.exists() and Organization.objects.exists()
    for code in Organization.objects.exclude(credit_code="").values_list("credit_code", flat=True):
        assert credit_code_parse(code) == code
    first = [(r.name, r.id_number) for r in sample[:20]]
    Resident.tags.through.objects.all().delete()
    Household.objects.update(head=None)
    Resident.objects.all().delete()
    Household.objects.all().delete()
    House.objects.all().delete()
    Place.objects.all().delete()
    Organization.objects.all().delete()
    build_registry(None, scale="small", seed=3)
    again = [(r.name, r.id_number) for r in Resident.objects.order_by("id")[:20]]
    assert again == first
