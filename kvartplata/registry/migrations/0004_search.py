from django.db import migrations


class Migration(migrations.Migration):
    """Reserved for the account desk's search indexes."""

    dependencies = [("registry", "0003_onboarding")]

    operations: list = []
