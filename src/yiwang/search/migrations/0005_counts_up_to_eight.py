"""search_gram counts substrings of up to 8 characters from now on. With nothing indexed yet
(a new install: every document will be counted as it is indexed) the counts cover 8 from the
start; an install with an index keeps saying 4 — searches stay exact, longer terms counted by
the engine — until `yiwang search regram` recounts."""

from django.db import migrations

GRAM_MAX = 8  # text.GRAM_MAX when this migration was written
TABLE = {"sqlite": "search_fts", "postgresql": "search_doc"}


def forwards(apps, schema_editor):
    table = TABLE.get(schema_editor.connection.vendor)
    if table is None:
        return
    with schema_editor.connection.cursor() as c:
        c.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")  # noqa: S608 (a fixed name)
        if c.fetchone()[0]:
            return
        c.execute("DELETE FROM search_gram WHERE gram = '' AND scope = 'max'")
        c.execute(f"INSERT INTO search_gram(gram, scope, n) VALUES ('', 'max', {GRAM_MAX})")


class Migration(migrations.Migration):
    dependencies = [("search", "0004_queue_without_ref_index")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
