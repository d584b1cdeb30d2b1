"""Two imports of the same file at the same moment give one set of payments (PostgreSQL)."""

import threading

import pytest
from django.db import connection

from kvartplata.billing.models import LedgerEntry
from kvartplata.payments.models import Payment, PaymentFile
from kvartplata.payments.tests.conftest import TODAY, line, registry


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_imports_one_set_from_two_simultaneous_imports(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent imports are tested on PostgreSQL (set DATABASE_URL)")
    from kvartplata.demo import world as demo
    from kvartplata.payments.services import payment_file_import
    from kvartplata.registry.models import PersonalAccount

    world = demo.build(accounts=20, months=2, today=TODAY)
    numbers = list(
        PersonalAccount.objects.filter(organization=world.organization).values_list(
            "number", flat=True
        )
    )
    lines = [line(numbers[i % len(numbers)], "10.00", op=f"T{i}") for i in range(2000)]
    lines += [line("99999999", "5.00", op=f"X{i}") for i in range(100)]
    path = tmp_path / "same.txt"
    path.write_bytes(registry(lines).encode("cp1251"))
    bank = world.organization.banks.get(code="sber")
    files = [PaymentFile.objects.create(bank=bank, name="same.txt", size=1) for _ in range(2)]
    entries_before = LedgerEntry.objects.filter(kind="payment").count()
    barrier = threading.Barrier(2)
    results = {}

    def run(payment_file):
        try:
            barrier.wait()
            results[payment_file.pk] = payment_file_import(
                payment_file_id=payment_file.pk, path=path
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outcomes = sorted((r.status, r.lines_imported, r.lines_duplicate) for r in results.values())
    assert outcomes == [("imported", 0, 2100), ("imported", 2100, 0)]
    assert Payment.objects.filter(natural_key__startswith="T").count() == 2000
    assert Payment.objects.filter(status="unmatched").count() == 100
    paid = LedgerEntry.objects.filter(
        kind="payment",
        source_id__in=Payment.objects.filter(natural_key__startswith="T").values("pk"),
    )
    assert sum(e.amount for e in paid) == -20000
    assert LedgerEntry.objects.filter(kind="payment").count() - entries_before == paid.count()
