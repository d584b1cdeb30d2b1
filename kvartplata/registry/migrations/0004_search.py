"""Indexes of the account desk's search (backoffice/desk.py) on PostgreSQL.

The search asks for a number or a surname that equals the query or starts with it
(``number = 'X' OR number LIKE 'X%'``, the same of each spelling of a surname), or a phone. In a
database whose collation is not C, a B-tree index of ordinary ``varchar_ops`` cannot answer
``LIKE 'X%'``, so PostgreSQL read all of the organization's accounts. The ``varchar_pattern_ops``
indexes below answer both the equality and the prefix, each arm of the OR on its own index (with
the phone's, billing migration 0016), in a bitmap. The planner alone uses them: the model's state
need not know them. SQLite searches a small database as before (nothing to do there).
"""

from django.db import migrations

INDEXES = {
    "account_number_like_idx": "(organization_id, number varchar_pattern_ops)",
    "account_holder_like_idx": "(organization_id, holder_last_name varchar_pattern_ops)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON registry_personalaccount {columns}"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_onboarding")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
