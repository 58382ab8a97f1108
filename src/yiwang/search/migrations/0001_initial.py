"""The search queue, the engine's own table (FTS5 on SQLite, tsvector + GIN on PostgreSQL),
and the triggers that queue every change to the registry's people, places and organisations."""

from django.db import migrations, models

# table → (kind, the column that names the record)
WATCHED = [
    ("registry_resident", "r", "id"),
    ("registry_place", "p", "id"),
    ("registry_organization", "o", "id"),
    ("registry_resident_tags", "r", "resident_id"),
    ("registry_residentlink", "r", "resident_id"),
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    run = schema_editor.execute
    if vendor == "sqlite":
        run("CREATE VIRTUAL TABLE search_fts USING fts5(body, tokenize='unicode61', detail=full)")
        for table, kind, column in WATCHED:
            for op, ref in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
                run(
                    f"CREATE TRIGGER search_{table}_{op.lower()} AFTER {op} ON {table} "
                    f"BEGIN INSERT INTO search_searchqueue(kind, ref_id) "
                    f"VALUES ('{kind}', {ref}.{column}); END"
                )
    elif vendor == "postgresql":
        run("CREATE TABLE search_doc (id bigint PRIMARY KEY, tsv tsvector NOT NULL)")
        run("CREATE INDEX search_doc_tsv ON search_doc USING gin (tsv)")
        for table, kind, column in WATCHED:
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


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    run = schema_editor.execute
    if vendor == "sqlite":
        for table, _kind, _column in WATCHED:
            for op in ("insert", "update", "delete"):
                run(f"DROP TRIGGER IF EXISTS search_{table}_{op}")
        run("DROP TABLE IF EXISTS search_fts")
    elif vendor == "postgresql":
        for table, _kind, _column in WATCHED:
            run(f"DROP TRIGGER IF EXISTS search_queue_{table} ON {table}")
            run(f"DROP FUNCTION IF EXISTS search_queue_{table}()")
        run("DROP TABLE IF EXISTS search_doc")


class Migration(migrations.Migration):
    initial = True
    dependencies = [("registry", "0002_seed_tags")]
    operations = [
        migrations.CreateModel(
            name="SearchQueue",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(max_length=1)),
                ("ref_id", models.BigIntegerField()),
            ],
            options={
                "indexes": [models.Index(fields=["kind", "ref_id"], name="search_queue_ref_idx")]
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
