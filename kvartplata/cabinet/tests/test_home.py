"""The cabinet's landing page and the account switcher (remembered in the session)."""

from django.urls import reverse

from kvartplata.users.models import AccountLink


def test_it_sends_a_user_without_accounts_to_the_link_form(client, outsider):
    AccountLink.objects.filter(user=outsider).delete()
    client.force_login(outsider)
    response = client.get(reverse("cabinet:home"))
    assert response.url == reverse("cabinet:link")


def test_it_opens_the_remembered_account(demo_client, demo_user, world):
    AccountLink.objects.create(user=demo_user, account=world.spare_account)
    assert demo_client.get(reverse("cabinet:home")).url == reverse(
        "cabinet:account", args=[world.resident_account.id]
    )
    response = demo_client.post(
        reverse("cabinet:switch"), {"account": world.spare_account.id, "section": "cabinet:charges"}
    )
    assert response.url == reverse("cabinet:charges", args=[world.spare_account.id])
    assert demo_client.get(reverse("cabinet:home")).url == reverse(
        "cabinet:account", args=[world.spare_account.id]
    )


def test_it_shows_the_switcher_only_with_several_accounts(demo_client, demo_user, world):
    url = reverse("cabinet:account", args=[world.resident_account.id])
    assert 'name="account"' not in demo_client.get(url).content.decode()
    AccountLink.objects.create(user=demo_user, account=world.spare_account)
    html = demo_client.get(url).content.decode()
    assert 'action="/accounts/switch/"' in html
    assert '<label for="cab-switch-account"' in html
    assert world.spare_account.number in html


def test_it_will_not_switch_to_somebody_elses_account(demo_client, world, outsider):
    response = demo_client.post(reverse("cabinet:switch"), {"account": world.spare_account.id})
    assert response.url == reverse("cabinet:home")
    assert demo_client.session.get("cabinet_account") != world.spare_account.id


def test_it_ignores_an_unknown_section(demo_client, world):
    response = demo_client.post(
        reverse("cabinet:switch"),
        {"account": world.resident_account.id, "section": "admin:index"},
    )
    assert response.url == reverse("cabinet:account", args=[world.resident_account.id])


def test_it_remembers_an_account_opened_by_its_address(demo_client, demo_user, world):
    AccountLink.objects.create(user=demo_user, account=world.spare_account)
    demo_client.get(reverse("cabinet:account", args=[world.spare_account.id]))
    assert demo_client.get(reverse("cabinet:home")).url == reverse(
        "cabinet:account", args=[world.spare_account.id]
    )


def test_it_writes_no_session_for_a_view_of_the_only_account(demo_client, world):
    before = dict(demo_client.session)
    response = demo_client.get(reverse("cabinet:charges", args=[world.resident_account.id]))
    assert response.status_code == 200
    assert "sessionid" not in response.cookies  # nothing saved, no cookie sent again
    assert dict(demo_client.session) == before
