"""PostgreSQL: the search queue is filled once per statement from its transition table instead
of once per row, so a COPY of 100 k residents costs one INSERT … SELECT, not 100 k PL/pgSQL
calls. SQLite keeps its row triggers (it has no statement triggers)."""

from django.db import migrations

WATCHED = [
    ("registry_resident", "r", "id"),
    ("registry_place", "p", "id"),
    ("registry_organization", "o", "id"),
    ("registry_resident_tags", "r", "resident_id"),
    ("registry_residentlink", "r", "resident_id"),
]
EVENTS = (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD"))


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    for table, kind, column in WATCHED:
        run(f"DROP TRIGGER IF EXISTS search_queue_{table} ON {table}")
        run(f"DROP FUNCTION IF EXISTS search_queue_{table}()")
        run(
            f"CREATE FUNCTION search_queue_{table}() RETURNS trigger AS $$ BEGIN "
            f"INSERT INTO search_searchqueue(kind, ref_id) SELECT '{kind}', {column} FROM changed; "
            f"RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        for op, which in EVENTS:
            run(
                f"CREATE TRIGGER search_queue_{table}_{op.lower()} AFTER {op} ON {table} "
                f"REFERENCING {which} TABLE AS changed "
                f"FOR EACH STATEMENT EXECUTE FUNCTION search_queue_{table}()"
            )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    for table, kind, column in WATCHED:
        for op, _which in EVENTS:
            run(f"DROP TRIGGER IF EXISTS search_queue_{table}_{op.lower()} ON {table}")
        run(f"DROP FUNCTION IF EXISTS search_queue_{table}()")
        run(
            f"CREATE FUNCTION search_queue_{table}() RETURNS trigger AS $$ BEGIN "
            f"IF TG_OP = 'DELETE' THEN INSERT INTO search_searchqueue(kind, ref_id) "
            f"VALUES ('{kind}', OLD.{column}); RETURN OLD; END IF; "
            f"INSERT INTO search_searchqueue(kind, ref_id) VALUES ('{kind}', NEW.{column}); "
            f"RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        run(
            f"CREATE TRIGGER search_queue_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION search_queue_{table}()"
        )


class Migration(migrations.Migration):
    dependencies = [("search", "0002_kind_ranges_and_gram_counts")]
    operations = [migrations.RunPython(forwards, backwards)]
