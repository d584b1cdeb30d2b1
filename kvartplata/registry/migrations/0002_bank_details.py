# Bank details checked where they are entered: ИНН check digits, КПП format (validators only);
# the account's code named as on the receipt.
from django.db import migrations, models

import kvartplata.lib.bankdetails
import kvartplata.registry.models


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="organization",
            name="bic",
            field=models.CharField(
                max_length=9,
                validators=[kvartplata.lib.bankdetails.validate_bic],
                verbose_name="БИК",
            ),
        ),
        migrations.AlterField(
            model_name="organization",
            name="correspondent_account",
            field=models.CharField(
                max_length=20,
                validators=[kvartplata.lib.bankdetails.validate_account20],
                verbose_name="корр. счёт",
            ),
        ),
        migrations.AlterField(
            model_name="organization",
            name="inn",
            field=models.CharField(
                max_length=12,
                validators=[kvartplata.lib.bankdetails.validate_inn],
                verbose_name="ИНН",
            ),
        ),
        migrations.AlterField(
            model_name="organization",
            name="kpp",
            field=models.CharField(
                blank=True,
                max_length=9,
                validators=[kvartplata.lib.bankdetails.validate_kpp],
                verbose_name="КПП",
            ),
        ),
        migrations.AlterField(
            model_name="organization",
            name="settlement_account",
            field=models.CharField(
                max_length=20,
                validators=[kvartplata.lib.bankdetails.validate_account20],
                verbose_name="расчётный счёт",
            ),
        ),
        migrations.AlterField(
            model_name="provider",
            name="bic",
            field=models.CharField(
                max_length=9,
                validators=[kvartplata.lib.bankdetails.validate_bic],
                verbose_name="БИК",
            ),
        ),
        migrations.AlterField(
            model_name="provider",
            name="correspondent_account",
            field=models.CharField(
                max_length=20,
                validators=[kvartplata.lib.bankdetails.validate_account20],
                verbose_name="корр. счёт",
            ),
        ),
        migrations.AlterField(
            model_name="provider",
            name="inn",
            field=models.CharField(
                max_length=12,
                validators=[kvartplata.lib.bankdetails.validate_inn],
                verbose_name="ИНН",
            ),
        ),
        migrations.AlterField(
            model_name="provider",
            name="kpp",
            field=models.CharField(
                blank=True,
                max_length=9,
                validators=[kvartplata.lib.bankdetails.validate_kpp],
                verbose_name="КПП",
            ),
        ),
        migrations.AlterField(
            model_name="provider",
            name="settlement_account",
            field=models.CharField(
                max_length=20,
                validators=[kvartplata.lib.bankdetails.validate_account20],
                verbose_name="расчётный счёт",
            ),
        ),
        # The receipt's wording for the account's code, in the back office too.
        migrations.AlterField(
            model_name="personalaccount",
            name="link_code",
            field=models.CharField(
                default=kvartplata.registry.models.new_link_code,
                max_length=12,
                verbose_name="код для подключения к личному кабинету",
            ),
        ),
    ]
