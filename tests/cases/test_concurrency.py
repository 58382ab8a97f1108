"""Two concurrent changes to one case cannot both win: two real connections."""

import threading

import pytest
from django.db import close_old_connections, connection

from yiwang.cases import services as s
from yiwang.cases.errors import CaseConflict
from yiwang.cases.models import Case


@pytest.mark.postgres
def test_two_connections_cannot_both_win(transactional_db, report, community_a_staff):
    if connection.vendor != "postgresql":
        pytest.skip("needs two concurrent connections: runs in CI's PostgreSQL pass")
    case = report()
    version = case.version
    barrier = threading.Barrier(2)
    results = []

    def worker(action):
        close_old_connections()
        try:
            barrier.wait()
            fresh = Case.objects.get(id=case.id)
            if action == "accept":
                s.case_accept(actor=community_a_staff, case=fresh, expected_version=version)
            else:
                s.case_escalate(
                    actor=community_a_staff, case=fresh, reason="并发", expected_version=version
                )
            results.append("won")
        except CaseConflict:
            results.append("409")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(a,)) for a in ("accept", "escalate")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["409", "won"]
    case.refresh_from_db()
    assert case.version == version + 1
    assert case.events.count() == 2  # report + the one winner


def test_stale_write_loses_on_any_database(report, community_a_staff):
    case = report()
    stale_copy = Case.objects.get(id=case.id)
    s.case_accept(actor=community_a_staff, case=case, expected_version=case.version)
    with pytest.raises(CaseConflict):
        s.case_escalate(
            actor=community_a_staff,
            case=stale_copy,
            reason="x",
            expected_version=stale_copy.version,
        )
