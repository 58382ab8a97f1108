"""Two providers accepting the same demand at the same moment, on two real connections:
exactly one booking."""

import threading

import pytest
from django.db import close_old_connections, connection

from yiwang.matching import services as s
from yiwang.matching.errors import MatchConflict
from yiwang.matching.models import Demand, Offer, Provider

MON = [[0, 8 * 60, 12 * 60]]


@pytest.mark.postgres
@pytest.mark.parametrize("round_", range(3))
def test_two_providers_accept_at_once_one_booking(
    transactional_db, post, make_provider, worker_a, round_
):
    if connection.vendor != "postgresql":
        pytest.skip("needs two concurrent connections: runs in CI's PostgreSQL pass")
    a = make_provider("甲", slots=MON, user=True)
    b = make_provider("乙", slots=MON, user=True)
    demand = post()
    offers = s.demand_offer(actor=worker_a, demand=demand, providers=[a, b])
    barrier = threading.Barrier(2)
    results = []

    def accept(offer, user):
        close_old_connections()
        try:
            barrier.wait()
            s.offer_accept(actor=user, offer=Offer.objects.get(id=offer.id))
            results.append("won")
        except MatchConflict:
            results.append("taken")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=accept, args=(offer, p.user))
        for offer, p in zip(offers, [a, b], strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["taken", "won"]
    demand.refresh_from_db()
    assert demand.status == Demand.Status.MATCHED
    assert Offer.objects.filter(demand=demand, status=Offer.Status.ACCEPTED).count() == 1
    assert Offer.objects.get(demand=demand, provider_id=demand.provider_id).status == "accepted"
    assert sum(Provider.objects.values_list("active_count", flat=True)) == 1


def test_the_database_refuses_a_second_accepted_offer(post, make_provider, worker_a):
    """The partial unique index is a backstop even for code that skipped the service."""
    from django.db import IntegrityError, transaction

    a = make_provider("甲", slots=MON)
    b = make_provider("乙", slots=MON)
    first, second = s.demand_offer(actor=worker_a, demand=post(), providers=[a, b])
    Offer.objects.filter(id=first.id).update(status="accepted")
    with pytest.raises(IntegrityError), transaction.atomic():
        Offer.objects.filter(id=second.id).update(status="accepted")
