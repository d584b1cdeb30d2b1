# Reserved for one piece of work; filled in when that work needs schema changes.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("billing", "0016_backoffice")]

    operations = []
