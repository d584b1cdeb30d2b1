"""The database guards are installed after every migration (SQLite drops triggers on rebuilds)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_it_has_the_closed_period_guards_on_every_table():
    if connection.vendor == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        names = {row[0] for row in cursor.fetchall()}
    for table in (
        "billing_charge",
        "billing_recalculation",
        "billing_ledgerentry",
        "billing_accountbalance",
    ):
        assert any(name.startswith(f"{table}_closed") for name in names), table
    assert "receipts_receipt_immutable" in names
