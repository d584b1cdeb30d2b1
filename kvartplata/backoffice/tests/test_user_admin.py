"""Operators look after residents' contact data, never after logins' powers or passwords."""

from django.urls import reverse

from kvartplata.users.models import AccountLink, User

from .test_admin_pages import admin_url


def test_it_lists_colleagues_and_linked_residents_only(client, world):
    client.force_login(world.a.staff)
    response = client.get(admin_url(User, "changelist"))
    names = {user.username for user in response.context["cl"].result_list}
    assert names == {"staff-100", "resident-100"}


def test_it_lets_an_operator_fix_a_residents_phone_but_not_powers(client, world):
    resident = world.resident
    client.force_login(world.a.staff)
    response = client.post(
        admin_url(User, "change", resident.pk),
        {
            "last_name": "Иванов",
            "first_name": "Иван",
            "middle_name": "",
            "email": resident.email,
            "phone": "+79001234567",
            "is_superuser": "on",
            "is_staff": "on",
            "username": "hijacked",
            "account_links-TOTAL_FORMS": "0",
            "account_links-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.phone == "+79001234567"
    assert resident.username == "resident-100"
    assert not resident.is_staff
    assert not resident.is_superuser


def test_it_hides_the_password_hash_from_an_operator(client, world):
    client.force_login(world.a.staff)
    response = client.get(admin_url(User, "change", world.resident.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert "pbkdf2" not in body
    assert world.resident.password.split("$")[-1][:12] not in body


def test_it_refuses_an_operator_the_password_form(client, world):
    client.force_login(world.a.staff)
    url = reverse("admin:auth_user_password_change", args=[world.resident.pk])
    assert client.get(url).status_code == 403


def test_it_shows_a_colleague_read_only(client, world):
    colleague = User.objects.create_user(
        username="colleague", password=None, is_staff=True, organization=world.a.organization
    )
    client.force_login(world.a.staff)
    response = client.get(admin_url(User, "change", colleague.pk))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False


def test_it_shows_only_links_to_own_accounts(client, world):
    from kvartplata.registry.models import PersonalAccount

    AccountLink.objects.create(user=world.resident, account=world.b[PersonalAccount])
    client.force_login(world.a.staff)
    response = client.get(admin_url(User, "change", world.resident.pk))
    formset = response.context["inline_admin_formsets"][0].formset
    assert [link.account for link in formset.queryset] == [world.a[PersonalAccount]]
