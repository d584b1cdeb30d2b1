# Reserved for one piece of work; filled in when that work needs schema changes.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("billing", "0012_fact_tables_without_fk_constraints")]

    operations = []
