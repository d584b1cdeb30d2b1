"""The unsubscribe link of reminder e-mails: GET asks, POST (also one-click) unsubscribes."""

from urllib.parse import urlsplit

from django.core import signing
from django.urls import reverse

from kvartplata.meters.models import ReminderOptOut
from kvartplata.meters.tasks import UNSUBSCRIBE_SALT, unsubscribe_url


def test_it_asks_then_unsubscribes(client, world):
    path = urlsplit(unsubscribe_url(world.resident)).path
    response = client.get(path)
    assert response.status_code == 200
    assert "Отписаться" in response.content.decode()
    assert not ReminderOptOut.objects.exists()
    response = client.post(path)
    assert "Вы отписались" in response.content.decode()
    assert ReminderOptOut.objects.filter(user=world.resident).exists()
    client.post(path)  # twice is fine
    assert ReminderOptOut.objects.count() == 1


def test_it_refuses_a_forged_token(client, world):
    token = signing.dumps(world.resident.pk, salt="another-salt")
    response = client.post(reverse("meters_site:unsubscribe", args=[token]))
    assert response.status_code == 404
    response = client.post(reverse("meters_site:unsubscribe", args=["garbage"]))
    assert response.status_code == 404
    assert not ReminderOptOut.objects.exists()
    assert UNSUBSCRIBE_SALT
