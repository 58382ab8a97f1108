"""Documents get ids by kind range (residents 1·2⁴⁰ + id, places 2·2⁴⁰ + id, organisations
3·2⁴⁰ + id), and search_gram counts every substring of 2 to 4 characters per kind,
district-wide and per street (its row gram '' scope 'max' says up to which length). The old ids
cannot be translated in place, so the index is emptied and every live record is queued: the
worker re-indexes them (or run the index rebuild at once)."""

from django.db import migrations

GRAM_MAX = 4  # text.GRAM_MAX when this migration was written
REQUEUE = [
    ("r", "registry_resident"),
    ("p", "registry_place"),
    ("o", "registry_organization"),
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    run = schema_editor.execute
    if vendor == "sqlite":
        run(
            "CREATE TABLE search_gram (gram TEXT NOT NULL, scope TEXT NOT NULL, "
            "n INTEGER NOT NULL, PRIMARY KEY (gram, scope)) WITHOUT ROWID"
        )
        run("DELETE FROM search_fts")
    elif vendor == "postgresql":
        run(
            'CREATE TABLE search_gram (gram text COLLATE "C" NOT NULL, '
            'scope text COLLATE "C" NOT NULL, n integer NOT NULL, PRIMARY KEY (gram, scope))'
        )
        run("TRUNCATE search_doc")
    else:
        return
    # Index and counts are both empty, so the counts cover every substring length from here on.
    run(f"INSERT INTO search_gram(gram, scope, n) VALUES ('', 'max', {GRAM_MAX})")
    run("DELETE FROM search_searchqueue")
    for kind, table in REQUEUE:
        run(
            f"INSERT INTO search_searchqueue(kind, ref_id) "
            f"SELECT '{kind}', id FROM {table} WHERE archived_at IS NULL"
        )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        return
    schema_editor.execute("DROP TABLE IF EXISTS search_gram")
    schema_editor.execute("DELETE FROM search_fts" if vendor == "sqlite" else "TRUNCATE search_doc")
    schema_editor.execute("DELETE FROM search_searchqueue")
    for kind, table in REQUEUE:
        schema_editor.execute(
            f"INSERT INTO search_searchqueue(kind, ref_id) "
            f"SELECT '{kind}', id FROM {table} WHERE archived_at IS NULL"
        )


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial"), ("registry", "0002_seed_tags")]
    operations = [migrations.RunPython(forwards, backwards)]
