"""Registry import: exactly once, whole or nothing, unmatched lines, the ledger after it."""

import datetime
from decimal import Decimal

import hypothesis
import pytest
from hypothesis import strategies as st

from kvartplata.billing import ledger, services
from kvartplata.billing.models import AccountBalance, LedgerEntry
from kvartplata.payments.models import Payment, PaymentFile
from kvartplata.payments.tests.conftest import line, registry
from kvartplata.registry.models import Period


def _state():
    """Everything an import may write: payments and payment entries of the ledger."""
    return (
        sorted(Payment.objects.filter(file__isnull=False).values_list("natural_key", "amount")),
        LedgerEntry.objects.filter(kind="payment").count(),
    )


def test_it_imports_a_file_and_posts_the_payments(world, accounts, import_text):
    account = accounts[0]
    before = LedgerEntry.objects.filter(account=account, kind="payment").count()
    f = import_text(registry([line(account.number, "1500.00", op="A1")]))
    assert f.status == PaymentFile.Status.IMPORTED, f.error
    assert (f.lines_total, f.lines_imported, f.lines_duplicate, f.lines_unmatched) == (1, 1, 0, 0)
    assert f.amount_total == Decimal("1500.00")
    assert len(f.sha256) == 64
    payment = Payment.objects.get(natural_key="A1")
    assert payment.account == account and payment.status == Payment.Status.MATCHED
    assert payment.period == services.current_period(world.organization)
    assert payment.payer_name == "Иванов Иван Иванович"
    entries = LedgerEntry.objects.filter(account=account, kind="payment", source_id=payment.pk)
    assert LedgerEntry.objects.filter(account=account, kind="payment").count() > before
    assert sum(e.amount for e in entries) == Decimal("-1500.00")
    assert {e.entry_date for e in entries} == {datetime.date(2026, 11, 3)}


def test_it_counts_the_same_file_once(world, accounts, import_text):
    text = registry([line(accounts[0].number, "100.00", op="A1"), line("555", "5.00", op="A2")])
    first = import_text(text)
    state = _state()
    second = import_text(text)
    assert second.status == PaymentFile.Status.IMPORTED
    assert (second.lines_imported, second.lines_duplicate) == (0, 2)
    assert _state() == state
    assert first.lines_imported == 2


def test_it_counts_a_line_repeated_in_two_files_once(world, accounts, import_text):
    shared = line(accounts[1].number, "300.00", op="S1")
    import_text(registry([line(accounts[0].number, "100.00", op="A1"), shared]))
    f = import_text(registry([shared, line(accounts[2].number, "50.00", op="B1")]))
    assert (f.lines_imported, f.lines_duplicate) == (1, 1)
    assert Payment.objects.filter(natural_key="S1").count() == 1
    s1 = Payment.objects.get(natural_key="S1")
    assert LedgerEntry.objects.filter(kind="payment", source_id=s1.pk).count() >= 1
    assert sum(e.amount for e in LedgerEntry.objects.filter(kind="payment", source_id=s1.pk)) == (
        Decimal("-300.00")
    )


def test_it_counts_a_line_without_operation_id_once_by_date_account_and_amount(
    world, accounts, import_text
):
    same = line(accounts[0].number, "250.00", when="05.11.2026 10:11:12")
    f = import_text(registry([same, same]))
    assert (f.lines_total, f.lines_imported, f.lines_duplicate) == (2, 1, 1)
    other_second = line(accounts[0].number, "250.00", when="05.11.2026 10:11:13")
    f = import_text(registry([same, other_second]))
    assert (f.lines_imported, f.lines_duplicate) == (1, 1)


def test_it_refuses_a_footer_mismatch_and_changes_nothing(world, accounts, import_text):
    state = _state()
    f = import_text(registry([line(accounts[0].number, "100.00", op="A1")], total="100.01"))
    assert f.status == PaymentFile.Status.REFUSED
    assert "не совпадает с итоговой строкой" in f.error
    f = import_text(registry([line(accounts[0].number, "100.00", op="A1")], count=2))
    assert f.status == PaymentFile.Status.REFUSED
    assert _state() == state


def test_it_refuses_the_whole_file_for_one_bad_line(world, accounts, import_text):
    state = _state()
    lines = [line(accounts[i].number, "10.00", op=f"G{i}") for i in range(5)]
    lines.append(line(accounts[5].number, "10.00", op="BAD", when="32.11.2026 10:00:00"))
    f = import_text(registry(lines, total="60.00"))
    assert f.status == PaymentFile.Status.REFUSED
    assert "Строка 6: неверная дата «32.11.2026 10:00:00»" in f.error
    assert _state() == state


def test_it_refuses_a_bad_line_after_a_whole_batch_was_written(
    world, accounts, import_text, monkeypatch
):
    from kvartplata.payments import services as payment_services

    monkeypatch.setattr(payment_services, "BATCH", 2)
    state = _state()
    lines = [line(accounts[i].number, "10.00", op=f"G{i}") for i in range(5)]
    lines.append(line(accounts[5].number, "десять", op="BAD"))
    f = import_text(registry(lines, total="50.00"))
    assert f.status == PaymentFile.Status.REFUSED
    assert "Строка 6: неверная сумма «десять»" in f.error
    assert _state() == state


def test_it_puts_unknown_and_closed_accounts_in_the_unmatched_queue(world, accounts, import_text):
    closed = accounts[3]
    closed.closed_on = datetime.date(2026, 10, 31)
    closed.save(update_fields=["closed_on"])
    entries = LedgerEntry.objects.filter(kind="payment").count()
    f = import_text(
        registry([line("99999999", "70.00", op="U1"), line(closed.number, "80.00", op="U2")])
    )
    assert f.status == PaymentFile.Status.IMPORTED
    assert f.lines_unmatched == 2
    unmatched = Payment.objects.filter(status=Payment.Status.UNMATCHED)
    assert sorted(unmatched.values_list("natural_key", flat=True)) == ["U1", "U2"]
    assert all(p.account_id is None and p.period_id is None for p in unmatched)
    assert LedgerEntry.objects.filter(kind="payment").count() == entries


def test_it_pays_the_named_month_first(world, accounts, import_text):
    services.billing_run(organization=world.organization)
    debts = ledger.open_debts([a.pk for a in accounts])
    # open debts are by (month, payee): an account owing two months
    account = next(a for a in accounts if len({m for m, _ in debts.get(a.pk, {})}) >= 2)
    newest = max(m for m, _ in debts[account.pk])
    f = import_text(registry([line(account.number, "10.00", op="M1", month=f"{newest:%m%Y}")]))
    payment = Payment.objects.get(natural_key="M1")
    assert f.status == PaymentFile.Status.IMPORTED
    months = set(
        LedgerEntry.objects.filter(source_id=payment.pk, kind="payment").values_list(
            "concerns_month", flat=True
        )
    )
    assert months == {newest}


def test_it_keeps_the_invariant_in_a_billed_period(world, accounts, import_text):
    services.billing_run(organization=world.organization)
    period = services.current_period(world.organization)
    assert period.state == Period.State.BILLED
    account = accounts[4]
    f = import_text(registry([line(account.number, "1234.56", op="I1")]))
    assert f.status == PaymentFile.Status.IMPORTED
    balance = AccountBalance.objects.get(period=period, account=account)
    sums = ledger.movement(period, [account.pk])[account.pk]
    assert balance.payments == -sums["payment"]
    assert balance.payments >= Decimal("1234.56")
    assert balance.closing == (
        balance.opening
        + balance.charges
        + balance.recalculations
        + balance.penalties
        - balance.payments
    )


def test_it_moves_every_balance_of_a_billed_period_by_its_payments(world, accounts, import_text):
    services.billing_run(organization=world.organization)
    period = services.current_period(world.organization)
    before = {b.account_id: b for b in AccountBalance.objects.filter(period=period)}
    lines = [line(a.number, "100.00", op=f"M{i}") for i, a in enumerate(accounts[:3])]
    lines.append(line(accounts[0].number, "0.50", op="M9"))
    f = import_text(registry(lines))
    assert f.status == PaymentFile.Status.IMPORTED, f.error
    paid = {accounts[0].pk: Decimal("100.50"), accounts[1].pk: Decimal("100.00")}
    paid[accounts[2].pk] = Decimal("100.00")
    for balance in AccountBalance.objects.filter(period=period):
        moved = paid.get(balance.account_id, Decimal("0.00"))
        assert balance.payments == before[balance.account_id].payments + moved
        assert balance.closing == before[balance.account_id].closing - moved
    # The same rows as made from the journal.
    made = {
        b.account_id: (b.payments, b.closing) for b in AccountBalance.objects.filter(period=period)
    }
    ledger.refresh_balances(period)
    assert made == {
        b.account_id: (b.payments, b.closing) for b in AccountBalance.objects.filter(period=period)
    }


def test_it_makes_the_missing_balance_row_of_a_billed_period(world, accounts, import_text):
    services.billing_run(organization=world.organization)
    period = services.current_period(world.organization)
    AccountBalance.objects.filter(period=period, account=accounts[1]).delete()
    lines = [line(a.number, "70.00", op=f"R{i}") for i, a in enumerate(accounts[:2])]
    f = import_text(registry(lines))
    assert f.status == PaymentFile.Status.IMPORTED, f.error
    made = AccountBalance.objects.get(period=period, account=accounts[1])
    ledger.refresh_balances(period, [accounts[1].pk])
    again = AccountBalance.objects.get(period=period, account=accounts[1])
    assert (made.payments, made.closing) == (again.payments, again.closing)
    assert made.payments >= Decimal("70.00")


def test_it_stores_nothing_when_writing_the_ledger_fails(world, accounts, import_text, monkeypatch):
    """A batch's entries are written (PostgreSQL: by a thread) while the next batch is
    allocated: an error there still refuses the whole file."""
    from django.db import connection

    from kvartplata.payments import posting

    state = _state()
    if connection.vendor == "postgresql":
        monkeypatch.setattr(ledger, "payment_rows_copy_text", lambda rows: b"not a row\n")
    else:
        rows_of = ledger.payment_rows

        def broken(*args):
            return [(*row[:4], None, *row[5:]) for row in rows_of(*args)]  # no amount

        monkeypatch.setattr(ledger, "payment_rows", broken)
    monkeypatch.setattr(posting, "BATCH", 1)
    lines = [line(a.number, "10.00", op=f"F{i}") for i, a in enumerate(accounts[:3])]
    f = import_text(registry(lines))
    assert f.status == PaymentFile.Status.REFUSED
    assert "ничего не загружено" in f.error
    assert _state() == state


def test_it_refuses_a_file_over_the_size_limit_unread(world, accounts, import_text, settings):
    settings.PAYMENTS_MAX_FILE_BYTES = 100
    state = _state()
    f = import_text(
        registry([line(accounts[0].number, "10.00", op=f"Z{i}") for i in range(5)], total="50.00")
    )
    assert f.status == PaymentFile.Status.REFUSED
    assert "Файл слишком большой" in f.error
    assert _state() == state


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Файл пустой"),
        ("Иванов;100".encode("utf-16"), "не похож на текстовый"),
        (b"\xff\xfe\x00\x00garbage", "не похож на текстовый"),
    ],
)
def test_it_refuses_bad_files_with_a_reason(world, import_text, data, message):
    state = _state()
    f = import_text(data)
    assert f.status == PaymentFile.Status.REFUSED
    assert message in f.error
    assert _state() == state


def test_it_refuses_missing_columns(world, accounts, import_text):
    f = import_text(f"03.11.2026 12:00:00;A1;{accounts[0].number};100.00\n=1;100.00\n")
    assert f.status == PaymentFile.Status.REFUSED
    assert "Строка 1: полей 4, а по настройке банка нужно не меньше 8" in f.error


def test_it_refuses_a_utf8_file_for_a_windows_1251_bank(world, bank, accounts, import_text):
    bank.encoding = "cp1251"
    bank.save()
    f = import_text(registry([line(accounts[0].number, "10.00", op="E1")]), encoding="utf-8")
    assert f.status == PaymentFile.Status.REFUSED
    assert "Файл в кодировке UTF-8" in f.error


def test_it_reads_a_utf8_file_with_bom(world, accounts, import_text):
    f = import_text(registry([line(accounts[0].number, "10.00", op="B1")]), encoding="utf-8-sig")
    assert f.status == PaymentFile.Status.IMPORTED
    assert Payment.objects.get(natural_key="B1").payer_name == "Иванов Иван Иванович"


def test_it_refuses_without_an_open_period(world, accounts, import_text):
    Period.objects.filter(organization=world.organization).exclude(state="closed").update(
        state="closed"
    )
    f = import_text(registry([line(accounts[0].number, "10.00", op="P1")]))
    assert f.status == PaymentFile.Status.REFUSED
    assert "Нет открытого расчётного периода" in f.error


def test_it_does_not_import_a_file_twice_from_its_row(world, accounts, bank, tmp_path):
    from kvartplata.payments.services import payment_file_import

    path = tmp_path / "r.txt"
    path.write_bytes(registry([line(accounts[0].number, "10.00", op="Q1")]).encode("cp1251"))
    f = PaymentFile.objects.create(bank=bank, name="r.txt", size=path.stat().st_size)
    payment_file_import(payment_file_id=f.pk, path=path)
    again = payment_file_import(payment_file_id=f.pk, path=path)
    assert again.status == PaymentFile.Status.IMPORTED and again.lines_imported == 1
    assert Payment.objects.filter(natural_key="Q1").count() == 1


def test_it_shows_the_payment_on_the_residents_payments_page(world, import_text, client):
    from django.contrib.auth import get_user_model

    account = world.resident_account
    f = import_text(registry([line(account.number, "777.77", op="R1")]))
    assert f.status == PaymentFile.Status.IMPORTED
    client.force_login(get_user_model().objects.get(username="demo"))
    response = client.get(f"/accounts/{account.pk}/payments/")
    assert response.status_code == 200
    assert "777,77" in response.content.decode() or "777.77" in response.content.decode()


def test_it_matches_a_number_whose_leading_zeros_the_bank_dropped(world, accounts, import_text):
    account = accounts[0]
    assert account.number.startswith("0")
    f = import_text(registry([line(account.number.lstrip("0"), "100.00", op="Z1")]))
    assert f.status == PaymentFile.Status.IMPORTED, f.error
    payment = Payment.objects.get(natural_key="Z1")
    assert (payment.account, payment.account_number) == (account, account.number)


def test_it_keeps_the_first_line_of_a_key_repeated_in_a_later_block(
    world, accounts, import_text, monkeypatch
):
    from kvartplata.payments import services as payment_services

    monkeypatch.setattr(payment_services, "BATCH", 3)  # blocks of three lines
    lines = [line(accounts[i].number, "10.00", op=f"R{i}") for i in range(7)]
    lines.append(line(accounts[5].number, "99.00", op="R1"))  # R1 again, another amount
    lines += [line(accounts[i].number, "20.00", op=f"S{i}") for i in range(4)]
    f = import_text(registry(lines))
    assert f.status == PaymentFile.Status.IMPORTED, f.error
    assert (f.lines_total, f.lines_imported, f.lines_duplicate) == (12, 11, 1)
    first = Payment.objects.get(natural_key="R1")
    assert (first.amount, first.account) == (Decimal("10.00"), accounts[1])
    assert Payment.objects.filter(natural_key__startswith="S").count() == 4
    entries = LedgerEntry.objects.filter(
        kind="payment", source_id__in=Payment.objects.filter(file=f).values("pk")
    )
    assert sum(e.amount for e in entries) == Decimal("-150.00")  # 7 × 10 + 4 × 20


def test_it_adds_only_the_new_lines_of_a_file_that_overlaps_an_imported_one(
    world, accounts, import_text, monkeypatch
):
    from kvartplata.payments import services as payment_services

    monkeypatch.setattr(payment_services, "BATCH", 2)
    old = [line(accounts[i].number, "10.00", op=f"O{i}") for i in range(3)]
    import_text(registry(old))
    new = [line(accounts[i].number, "30.00", op=f"N{i}") for i in range(5)]
    f = import_text(registry([*old, *new, line("99999999", "1.00", op="NX")]))
    assert (f.lines_imported, f.lines_duplicate, f.lines_unmatched) == (6, 3, 1)
    assert Payment.objects.filter(natural_key__startswith="O").count() == 3
    assert Payment.objects.filter(file=f, status="matched").count() == 5


# --- ranges (issue #16, item 3) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "amount", "total", "message"),
    [
        ("03.12.0226 10:00:00", "10.00", "50.00", "Строка 3: Дата платежа"),
        ("01.01.1900 10:00:00", "10.00", "50.00", "Строка 3: Дата платежа 01.01.1900 — раньше"),
        ("31.12.1969 23:59:59", "10.00", "50.00", "Строка 3: Дата платежа 31.12.1969 — раньше"),
        ("01.01.2099 00:00:00", "10.00", "50.00", "Строка 3: Дата платежа 01.01.2099 — больше"),
        (
            "03.11.2026 12:00:00",
            "9 999 999 999,99",
            "10000000039.99",
            "Строка 3: Сумма платежа 9999999999.99 ₽ — больше допустимой для одной строки",
        ),
        (
            "03.11.2026 12:00:00",
            "1000000.01",
            "1000040.01",
            "Строка 3: Сумма платежа 1000000.01 ₽ — больше допустимой",
        ),
    ],
)
def test_it_refuses_a_line_out_of_range_with_its_number(
    world, accounts, import_text, when, amount, total, message
):
    state = _state()
    lines = [line(accounts[i].number, "10.00", op=f"G{i}") for i in range(4)]
    lines.insert(2, line(accounts[5].number, amount, op="BAD", when=when))
    f = import_text(registry(lines, total=total))
    assert f.status == PaymentFile.Status.REFUSED
    assert message in f.error, f.error
    assert "Внутренняя ошибка" not in f.error
    assert _state() == state


def test_it_takes_the_maximum_per_line_from_the_settings(world, accounts, import_text, settings):
    settings.MAX_LINE_AMOUNT = "50000.00"
    f = import_text(registry([line(accounts[0].number, "50000.01", op="BIG")]))
    assert f.status == PaymentFile.Status.REFUSED
    assert "Строка 1: Сумма платежа 50000.01 ₽ — больше допустимой" in f.error
    f = import_text(registry([line(accounts[0].number, "50000.00", op="BIG")]))
    assert f.status == PaymentFile.Status.IMPORTED


def test_it_refuses_a_payment_before_the_first_period(world, accounts, import_text):
    first = Period.objects.filter(organization=world.organization).order_by("month").first()
    day_before = first.month - datetime.timedelta(days=1)
    f = import_text(
        registry([line(accounts[0].number, "10.00", when=f"{day_before:%d.%m.%Y} 12:00:00")])
    )
    assert f.status == PaymentFile.Status.REFUSED
    assert f"раньше первого расчётного периода организации ({first.month:%d.%m.%Y})" in f.error
    f = import_text(
        registry([line(accounts[0].number, "10.00", when=f"{first.month:%d.%m.%Y} 12:00:00")])
    )
    assert f.status == PaymentFile.Status.IMPORTED


_dates = st.one_of(
    st.datetimes(
        min_value=datetime.datetime(1, 1, 1), max_value=datetime.datetime(9999, 12, 31)
    ).map(lambda d: f"{d:%d.%m.}{d.year:04d} {d:%H:%M:%S}"),
    st.sampled_from(["03.12.0226 10:00:00", "29.02.2027 10:00:00", "03.11.2026 12:00:00"]),
    st.text(st.characters(codec="cp1251"), max_size=20),
)
_amounts = st.one_of(
    st.decimals(min_value=-10, max_value=10**13, places=2).map(str),
    st.sampled_from(
        ["9 999 999 999,99", "1e400", "NaN", "0.00", "10,5", "99999999999999999999.99"]
    ),
    st.text(st.characters(codec="cp1251"), max_size=12),
)


@hypothesis.settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        hypothesis.HealthCheck.function_scoped_fixture,
        hypothesis.HealthCheck.too_slow,
    ],
)
@hypothesis.given(bad=st.lists(st.tuples(_dates, _amounts), min_size=1, max_size=3))
def test_it_never_lets_a_random_line_escape_or_half_store(world, accounts, import_text, bad):
    state = _state()
    good = [line(accounts[i].number, "10.00", op=f"R{i}") for i in range(3)]
    lines = good + [line(accounts[4].number, a, op=f"X{i}", when=w) for i, (w, a) in enumerate(bad)]
    f = import_text(registry(lines, total="0.00", count=len(lines)))
    assert f.status in (PaymentFile.Status.REFUSED, PaymentFile.Status.IMPORTED)
    assert "Внутренняя ошибка" not in f.error
    if f.status == PaymentFile.Status.REFUSED:
        assert _state() == state
    else:  # only when the random lines were good and their total happened to be 0.00
        Payment.objects.filter(file=f).delete()
