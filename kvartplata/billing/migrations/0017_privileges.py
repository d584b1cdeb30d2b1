# A privilege or subsidy is a kind (source) of recalculation: a choice only, no schema change
# (AlterField of choices alone does not rebuild the guarded SQLite table).
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("billing", "0016_backoffice")]

    operations = [
        migrations.AlterField(
            model_name="recalculation",
            name="source",
            field=models.CharField(
                choices=[
                    ("staff", "оператор"),
                    ("late_readings", "поздние показания"),
                    ("import", "загрузка"),
                    ("privilege", "льгота, субсидия"),
                ],
                max_length=20,
                verbose_name="источник",
            ),
        ),
    ]
