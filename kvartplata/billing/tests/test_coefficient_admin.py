"""The increasing coefficients in the back office: the table of the rules, edited by superusers."""

import pytest
from django.urls import reverse

from kvartplata.billing.models import IncreasingCoefficient
from kvartplata.billing.tests import factories as f
from kvartplata.users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser():
    org = f.organization()
    user = User.objects.create_user("op", "op@example.com", "x", is_staff=True, organization=org)
    user.is_superuser = True
    user.save()
    return user


def test_it_lists_the_coefficients_of_the_rules(client, superuser):
    client.force_login(superuser)
    page = client.get(reverse("admin:billing_increasingcoefficient_changelist")).content.decode()
    assert "ПП РФ № 1871 от 25.11.2025" in page
    assert "холодная вода" in page


def test_it_adds_a_coefficient_from_a_date(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:billing_increasingcoefficient_add"),
        {"resource": "hot_water", "valid_from": "01.01.2027", "value": "2", "basis": "тест"},
    )
    assert response.status_code == 302
    assert IncreasingCoefficient.objects.filter(resource="hot_water", value=2).exists()


def test_it_refuses_a_coefficient_below_one(client, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:billing_increasingcoefficient_add"),
        {"resource": "hot_water", "valid_from": "01.01.2027", "value": "0.5"},
    )
    assert response.status_code == 200
    assert "Повышающий коэффициент не может быть меньше 1." in response.content.decode()
    assert not IncreasingCoefficient.objects.filter(resource="hot_water", value="0.5").exists()
