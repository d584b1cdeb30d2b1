# The back office's account desk searches accounts by phone: an index for it.
# (The registry's model is not the desk's to change, so the index is made here in SQL; Django's
# model state does not need to know it, as it is used by the planner only.)
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("billing", "0015_leases"), ("registry", "0003_onboarding")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS account_phone_idx "
            "ON registry_personalaccount (organization_id, holder_phone)",
            "DROP INDEX IF EXISTS account_phone_idx",
        ),
    ]
