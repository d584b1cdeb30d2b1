"""The queue of unmatched payments: search, match and return from the page."""

import pytest

from kvartplata.billing.models import LedgerEntry
from kvartplata.payments.models import Payment
from kvartplata.payments.tests.conftest import line, registry


@pytest.fixture
def queue(world, import_text):
    import_text(
        registry(
            [
                line(
                    "11111111", "70.00", op="U1", payer="Смирнова Ольга", address="ул. Садовая, 5"
                ),
                line("22222222", "80.00", op="U2", payer="Козлов Пётр", address="пр. Мира, 27"),
            ]
        )
    )
    return {p.natural_key: p for p in Payment.objects.filter(status="unmatched")}


@pytest.mark.parametrize(
    ("query", "found"),
    [("", {"U1", "U2"}), ("1111", {"U1"}), ("смирнова", {"U1"}), ("Мира", {"U2"})],
)
def test_it_searches_by_number_name_and_address(
    client, staff, queue, query, found, django_assert_max_num_queries
):
    client.force_login(staff)
    with django_assert_max_num_queries(10):
        response = client.get("/office-tools/payments/unmatched/", {"q": query})
    shown = {p.natural_key for p in response.context["page"]}
    assert shown == found


def test_it_matches_a_payment_from_the_page(client, staff, queue, accounts):
    client.force_login(staff)
    payment = queue["U1"]
    response = client.post(
        f"/office-tools/payments/unmatched/{payment.pk}/match/",
        {"account_number": accounts[0].number, "q": "смир"},
    )
    assert response.status_code == 302 and "q=" in response["Location"]
    payment.refresh_from_db()
    assert payment.status == "matched" and payment.account == accounts[0]
    assert LedgerEntry.objects.filter(kind="payment", source_id=payment.pk).exists()
    again = client.post(
        f"/office-tools/payments/unmatched/{payment.pk}/match/",
        {"account_number": accounts[1].number},
        follow=True,
    )
    assert "уже сопоставлен или возвращён" in again.content.decode()
    # posted once: its entries (one per month and payee paid) add up to the payment
    parts = LedgerEntry.objects.filter(kind="payment", source_id=payment.pk)
    assert -sum(parts.values_list("amount", flat=True)) == payment.amount


def test_it_explains_an_unknown_account(client, staff, queue):
    client.force_login(staff)
    response = client.post(
        f"/office-tools/payments/unmatched/{queue['U1'].pk}/match/",
        {"account_number": "00000000"},
        follow=True,
    )
    assert "Лицевой счёт 00000000 не найден" in response.content.decode()
    response = client.post(
        f"/office-tools/payments/unmatched/{queue['U1'].pk}/match/",
        {"account_number": "abc"},
        follow=True,
    )
    assert "от 4 до 20 цифр" in response.content.decode()


def test_it_returns_a_payment_from_the_page(client, staff, queue):
    client.force_login(staff)
    response = client.post(f"/office-tools/payments/unmatched/{queue['U2'].pk}/return/")
    assert response.status_code == 302
    assert Payment.objects.get(pk=queue["U2"].pk).status == "returned"


def test_it_is_404_for_another_organizations_payment(client, queue, django_user_model):
    from kvartplata.registry.models import Organization

    other = Organization.objects.create(name="Другая УК", short_name="Другая", inn="7700000000")
    outsider = django_user_model.objects.create_user(
        username="outsider", password="x-Password-1", is_staff=True, organization=other
    )
    client.force_login(outsider)
    assert (
        client.post(f"/office-tools/payments/unmatched/{queue['U2'].pk}/return/").status_code == 404
    )
    assert client.get("/office-tools/payments/unmatched/").context["page"].paginator.count == 0
