"""The payments office page: upload form, recent files; staff only, own organization."""

from kvartplata.payments.tests.conftest import line, registry


def test_it_shows_the_form_and_recent_files(
    client, staff, accounts, import_text, django_assert_max_num_queries
):
    import_text(registry([line(accounts[0].number, "10.00", op="O1")]), name="sber-0311.txt")
    client.force_login(staff)
    with django_assert_max_num_queries(12):
        response = client.get("/office/tools/payments/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Загрузка реестра банка" in body and "sber-0311.txt" in body and "ПАО Сбербанк" in body


def test_it_is_for_staff_only(client, world):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="demo"))
    response = client.get("/office/tools/payments/")
    assert response.status_code == 302 and "/office/login/" in response["Location"]


def test_it_hides_other_organizations_files(
    client, world, accounts, import_text, django_user_model
):
    from kvartplata.registry.models import Organization

    import_text(registry([line(accounts[0].number, "10.00", op="O1")]), name="secret.txt")
    other = Organization.objects.create(name="Другая УК", short_name="Другая", inn="7700000000")
    outsider = django_user_model.objects.create_user(
        username="outsider", password="x-Password-1", is_staff=True, organization=other
    )
    client.force_login(outsider)
    assert "secret.txt" not in client.get("/office/tools/payments/").content.decode()
