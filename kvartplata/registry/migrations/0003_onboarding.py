# Onboarding (issue #18): the job of an uploaded registry file, checked and loaded under a lease.
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0002_bank_details"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ImportJob",
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
                ("file_name", models.CharField(max_length=255, verbose_name="файл")),
                ("stored_as", models.CharField(max_length=255, verbose_name="сохранён как")),
                ("switch_month", models.DateField(verbose_name="месяц перехода")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("checking", "проверяется"),
                            ("checked", "проверен, ждёт подтверждения"),
                            ("refused", "отклонён"),
                            ("loading", "загружается"),
                            ("done", "загружен"),
                            ("failed", "ошибка"),
                        ],
                        default="checking",
                        max_length=10,
                        verbose_name="статус",
                    ),
                ),
                ("step", models.CharField(blank=True, max_length=40, verbose_name="этап")),
                ("done", models.PositiveIntegerField(default=0, verbose_name="обработано строк")),
                ("total", models.PositiveIntegerField(default=0, verbose_name="строк на этапе")),
                ("report", models.JSONField(blank=True, default=dict, verbose_name="отчёт")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="загружен")),
                (
                    "finished_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="завершён"),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="загрузил",
                    ),
                ),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="registry.organization",
                        verbose_name="организация",
                    ),
                ),
            ],
            options={
                "verbose_name": "загрузка реестра",
                "verbose_name_plural": "загрузки реестра",
                "ordering": ["-created_at"],
            },
        ),
    ]
