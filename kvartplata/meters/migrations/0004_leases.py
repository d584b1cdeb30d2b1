# Readings CSV files loaded by the task queue, held by a lease (kvartplata.lib.leases).
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("meters", "0003_reminder_opt_out"),
        ("registry", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ReadingsFile",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "lease_owner",
                    models.CharField(
                        blank=True, default="", max_length=200, verbose_name="кто выполняет"
                    ),
                ),
                (
                    "lease_expires_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="аренда до"),
                ),
                ("name", models.CharField(max_length=255, verbose_name="файл")),
                ("size", models.PositiveIntegerField(default=0, verbose_name="размер, байт")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "в очереди"),
                            ("processing", "загружается"),
                            ("done", "загружен"),
                            ("refused", "отклонён"),
                        ],
                        default="queued",
                        max_length=12,
                        verbose_name="статус",
                    ),
                ),
                ("lines_total", models.PositiveIntegerField(default=0, verbose_name="строк")),
                (
                    "lines_done",
                    models.PositiveIntegerField(default=0, verbose_name="проверено строк"),
                ),
                ("lines_accepted", models.PositiveIntegerField(default=0, verbose_name="принято")),
                ("lines_refused", models.PositiveIntegerField(default=0, verbose_name="отклонено")),
                (
                    "report",
                    models.JSONField(blank=True, default=list, verbose_name="отчёт по строкам"),
                ),
                ("error", models.TextField(blank=True, verbose_name="причина отказа")),
                ("uploaded_at", models.DateTimeField(auto_now_add=True, verbose_name="загружен")),
                (
                    "finished_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="обработан"),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        to="registry.organization",
                        verbose_name="организация",
                    ),
                ),
                (
                    "uploaded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="загрузил",
                    ),
                ),
            ],
            options={
                "verbose_name": "файл показаний",
                "verbose_name_plural": "файлы показаний",
                "ordering": ["-uploaded_at"],
            },
        ),
        migrations.AddField(
            model_name="reminderlog",
            name="lease_owner",
            field=models.CharField(
                blank=True, default="", max_length=200, verbose_name="кто выполняет"
            ),
        ),
        migrations.AddField(
            model_name="reminderlog",
            name="lease_expires_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="аренда до"),
        ),
    ]
