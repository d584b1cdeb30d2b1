"""The queue of unmatched payments: search, match and return from the page."""

import logging

import pytest
from django.utils.html import escape

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
        response = client.get("/office/tools/payments/unmatched/", {"q": query})
    shown = {p.natural_key for p in response.context["page"]}
    assert shown == found


def test_it_matches_a_payment_after_showing_whose_account_it_is(client, staff, queue, accounts):
    client.force_login(staff)
    payment = queue["U1"]
    url = f"/office/tools/payments/unmatched/{payment.pk}/match/"
    shown = client.post(url, {"account_number": accounts[0].number, "q": "смир"})
    assert shown.status_code == 200
    html = shown.content.decode()
    # The bank line beside the account: payer and address against holder and address.
    for text in ("Смирнова Ольга", "ул. Садовая, 5", accounts[0].holder_name):
        assert escape(text) in html
    assert escape(str(accounts[0].premises)) in html
    payment.refresh_from_db()
    assert payment.status == "unmatched"  # nothing posted before the confirmation
    assert not LedgerEntry.objects.filter(kind="payment", source_id=payment.pk).exists()

    response = client.post(
        url, {"account_number": accounts[0].number, "q": "смир", "confirm": "yes"}
    )
    assert response.status_code == 302 and "q=" in response["Location"]
    payment.refresh_from_db()
    assert payment.status == "matched" and payment.account == accounts[0]
    assert LedgerEntry.objects.filter(kind="payment", source_id=payment.pk).exists()
    again = client.post(url, {"account_number": accounts[1].number, "confirm": "yes"}, follow=True)
    assert "уже сопоставлен или возвращён" in again.content.decode()
    # posted once: its entries (one per month and payee paid) add up to the payment
    parts = LedgerEntry.objects.filter(kind="payment", source_id=payment.pk)
    assert -sum(parts.values_list("amount", flat=True)) == payment.amount


def test_it_shows_candidates_by_number_address_and_surname(
    client, staff, queue, accounts, django_assert_max_num_queries
):
    client.force_login(staff)
    target = accounts[3]
    building = target.premises.building
    payment = queue["U2"]
    payment.account_number = target.number[:-1] + ("0" if target.number[-1] != "0" else "1")
    payment.payer_name = f"{target.holder_last_name.upper()} И. И."
    payment.address = f"{building.street}, д. {building.house}, кв. {target.premises.number}"
    payment.save()
    with django_assert_max_num_queries(12):
        response = client.get(f"/office/tools/payments/unmatched/{payment.pk}/")
    assert response.status_code == 200
    found = response.context["candidates"]
    assert found[0].account == target
    assert "тот же дом и квартира" in found[0].why
    assert any(why.startswith("номер похож") for why in found[0].why)
    html = response.content.decode()
    assert escape(target.holder_name) in html and "Причина возврата" in html


def test_it_explains_an_unknown_account(client, staff, queue):
    client.force_login(staff)
    response = client.post(
        f"/office/tools/payments/unmatched/{queue['U1'].pk}/match/",
        {"account_number": "00000000"},
        follow=True,
    )
    assert "Лицевой счёт 00000000 не найден" in response.content.decode()
    response = client.post(
        f"/office/tools/payments/unmatched/{queue['U1'].pk}/match/",
        {"account_number": "abc"},
        follow=True,
    )
    assert "от 4 до 20 цифр" in response.content.decode()


def test_it_returns_a_payment_only_with_a_reason_and_confirmation(client, staff, queue, caplog):
    client.force_login(staff)
    url = f"/office/tools/payments/unmatched/{queue['U2'].pk}/return/"
    response = client.post(url)
    assert response.status_code == 400
    assert "Укажите причину возврата" in response.content.decode()
    response = client.post(url, {"reason": "Чужой платёж, просьба банка"})
    assert response.status_code == 400
    assert "Подтвердите возврат" in response.content.decode()
    assert Payment.objects.get(pk=queue["U2"].pk).status == "unmatched"
    with caplog.at_level(logging.INFO, logger="kvartplata.audit"):
        response = client.post(url, {"reason": "Чужой платёж, просьба банка", "confirm": "yes"})
    assert response.status_code == 302
    assert Payment.objects.get(pk=queue["U2"].pk).status == "returned"
    assert any(
        "event=payment_returned" in r.getMessage() and "просьба банка" in r.getMessage()
        for r in caplog.records
    )


def test_it_is_404_for_another_organizations_payment(client, queue, django_user_model):
    from kvartplata.registry.models import Organization

    other = Organization.objects.create(name="Другая УК", short_name="Другая", inn="7700000000")
    outsider = django_user_model.objects.create_user(
        username="outsider", password="x-Password-1", is_staff=True, organization=other
    )
    # An operator, with every right to payments, only of another organization.
    from kvartplata.backoffice.services import ROLE_OPERATOR, staff_group_setup

    staff_group_setup(usernames=["outsider"], role=ROLE_OPERATOR)
    client.force_login(outsider)
    assert (
        client.post(f"/office/tools/payments/unmatched/{queue['U2'].pk}/return/").status_code == 404
    )
    assert client.get(f"/office/tools/payments/unmatched/{queue['U2'].pk}/").status_code == 404
    match_url = f"/office/tools/payments/unmatched/{queue['U2'].pk}/match/"
    assert client.post(match_url, {"account_number": "00000001"}).status_code == 404
    assert client.get("/office/tools/payments/unmatched/").context["page"].paginator.count == 0
