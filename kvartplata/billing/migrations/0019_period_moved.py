"""The periods now belong to the registry (registry 0005): every relation to billing's Period,
in billing, payments and receipts, points to registry.Period, and billing forgets its own.

State only: the foreign keys already reference the table `billing_period`, which keeps its name,
rows and triggers; nothing in the database schema changes. The content type of the model is
renamed so that the staff's permissions on periods and the admin's history follow it.
"""

from django.db import migrations
from django.db.migrations.operations.base import Operation
from django.db.migrations.utils import get_references

OLD = ("billing", "period")
NEW = "registry.period"


class PointRelationsTo(Operation):
    """Every field of any app that points to `old` (app_label, model) points to `new` instead.

    An AlterField of each such field, in the state only: the target is the same table. Django's
    AlterField acts on the models of its own migration's app; these relations are in three apps.
    """

    reduces_to_sql = False
    reversible = True

    def __init__(self, old, new):
        self.old = tuple(old)
        self.new = new

    def deconstruct(self):
        return self.__class__.__name__, [self.old, self.new], {}

    def state_forwards(self, app_label, state):
        for model_state, name, field, reference in list(get_references(state, self.old)):
            if not reference.to:
                continue
            changed = field.clone()
            changed.remote_field.model = self.new
            state.alter_field(
                model_state.app_label, model_state.name_lower, name, changed, True
            )

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        pass

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass

    def describe(self):
        return f"Point relations to {'.'.join(self.old)} to {self.new}"


def rename_content_type(apps, schema_editor, old, new):
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.using(schema_editor.connection.alias)
    # A database migrated from scratch has no content types yet (post_migrate creates them).
    if not types.filter(app_label=new, model="period").exists():
        types.filter(app_label=old, model="period").update(app_label=new)


def forwards(apps, schema_editor):
    rename_content_type(apps, schema_editor, "billing", "registry")


def backwards(apps, schema_editor):
    rename_content_type(apps, schema_editor, "registry", "billing")


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0018_money_foreign_keys"),
        ("registry", "0005_period"),
        ("contenttypes", "0002_remove_content_type_name"),
        # The last migrations of the apps whose relations to billing.Period are repointed here.
        ("payments", "0008_foreign_keys"),
        ("receipts", "0006_leases"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                PointRelationsTo(OLD, NEW),
                migrations.DeleteModel(name="Period"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
