"""registry_export: the same format back; export → import into an empty organization → export."""

import pytest
from django.core.management import call_command

from kvartplata.backoffice.exchange.services import registry_import
from kvartplata.backoffice.tests.exchange_helpers import SWITCH, edit, organization, tables, xlsx

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("suffix", ["xlsx", "zip"])
def test_it_round_trips_to_identical_files(tmp_path, suffix):
    first = organization("Первая")
    data = edit(tables(accounts=7), "accounts", 0, "holder_last_name", "=HYPERLINK(1)")
    assert registry_import(organization=first, source=xlsx(data), switch_month=SWITCH).ok
    one = tmp_path / f"one.{suffix}"
    call_command("registry_export", str(one), organization=first.id)

    second = organization("Вторая")
    report = registry_import(organization=second, source=one, switch_month=SWITCH)
    assert report.ok, report.as_text()
    assert report.counts["accounts"]["created"] == 7
    two = tmp_path / f"two.{suffix}"
    call_command("registry_export", str(two), organization=second.id)
    assert one.read_bytes() == two.read_bytes()


def test_it_exports_what_was_imported_cell_for_cell(tmp_path):
    from kvartplata.backoffice.exchange.dump import registry_tables

    org = organization()
    data = tables(accounts=3)
    registry_import(organization=org, source=xlsx(data), switch_month=SWITCH)
    # The rows come as they are read (an export is never in memory whole).
    exported = {
        name: (columns, list(rows)) for name, (columns, rows) in registry_tables(org).items()
    }
    assert [r[0] for r in exported["accounts"][1]] == [r[0] for r in data["accounts"][1]]
    columns, rows = exported["meters"]
    row = rows[0]
    assert row[columns.index("last_month")] == "2026-02"
    assert row[columns.index("initial_value1")] == f"{float(data['meters'][1][0][10]):.4f}"
    assert sorted(map(tuple, exported["opening_balances"][1])) == sorted(
        (n, inn, m, f"{float(a):.2f}") for n, inn, m, a in data["opening_balances"][1]
    )


def test_it_writes_a_directory_of_csv_files(tmp_path):
    org = organization()
    registry_import(organization=org, source=xlsx(tables(accounts=2)), switch_month=SWITCH)
    call_command("registry_export", str(tmp_path / "out"), organization=org.id)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"{name}.csv" for name in tables(accounts=1)
    )
    text = (tmp_path / "out" / "accounts.csv").read_text(encoding="utf-8")
    assert text.startswith("number,city,street,house,premises,holder_last_name")


def test_it_round_trips_the_demo_world(tmp_path):
    import datetime

    from kvartplata.backoffice.exchange.services import registry_export
    from kvartplata.demo.world import build

    world = build(accounts=20, months=2, today=datetime.date(2026, 11, 25))
    one = tmp_path / "demo.xlsx"
    registry_export(organization=world.organization, target=one)
    moved = organization("Переехавшая")
    report = registry_import(organization=moved, source=one, switch_month=SWITCH.replace(2027))
    assert report.ok, report.as_text()
    assert report.counts["accounts"]["created"] == 20
    meters = report.counts["meters"]["created"] + report.counts["building_meters"]["created"]
    assert report.counts["readings"]["created"] == meters  # every meter's latest reading
    two = tmp_path / "moved.xlsx"
    registry_export(organization=moved, target=two)
    assert one.read_bytes() == two.read_bytes()


@pytest.mark.django_db(transaction=True)
def test_it_exports_in_a_read_only_transaction_of_its_own(tmp_path):
    from django.db import connection

    from kvartplata.backoffice.exchange.files import read_workbook
    from kvartplata.backoffice.exchange.services import registry_export

    org = organization()
    registry_import(organization=org, source=xlsx(tables(accounts=3)), switch_month=SWITCH)
    # Not inside a test's transaction: the export opens its own (REPEATABLE READ, read only,
    # on PostgreSQL) and leaves the connection as it found it.
    assert not connection.in_atomic_block
    registry_export(organization=org, target=tmp_path / "registry.zip")
    assert connection.get_autocommit() and not connection.in_atomic_block
    workbook = read_workbook(tmp_path / "registry.zip")
    assert len(workbook["accounts"]) == 3
