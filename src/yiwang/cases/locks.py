from .models import Case


def lock_case(case_id: int) -> Case:
    """The case row, locked for the rest of the transaction (PostgreSQL: SELECT … FOR UPDATE;
    SQLite: the write transaction is already exclusive)."""
    return Case.objects.select_for_update().select_related("category", "grid").get(id=case_id)
