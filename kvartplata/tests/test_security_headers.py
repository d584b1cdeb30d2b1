"""Every page carries the strict CSP; private pages and signed-in users get no-store."""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse

from kvartplata.backoffice.services import staff_group_setup
from kvartplata.demo.world import build
from kvartplata.lib.security import DEFAULT_CSP
from kvartplata.meters.models import Meter
from kvartplata.receipts.models import Receipt

TODAY = datetime.date(2026, 11, 25)
MSK = datetime.timezone(datetime.timedelta(hours=3))
STRICT = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
]


@pytest.fixture
def world(db):
    with time_machine.travel(datetime.datetime(2026, 11, 25, 12, 0, tzinfo=MSK), tick=False):
        world = build(accounts=20, months=3, today=TODAY)
        staff_group_setup(usernames=["operator"])
        yield world


def resident_pages(world) -> list[str]:
    account_id = world.resident_account.id
    pages = [
        reverse("cabinet:home"),
        reverse("cabinet:link"),
        reverse("users:profile"),
    ]
    for name in ("account", "services", "charges", "payments", "charts"):
        pages.append(reverse(f"cabinet:{name}", kwargs={"account_id": account_id}))
    pages.append(reverse("cabinet:meters:meter_list", kwargs={"account_id": account_id}))
    meter = Meter.objects.filter(account_id=account_id).first()
    if meter is not None:
        pages.append(
            reverse(
                "cabinet:meters:meter_history",
                kwargs={"account_id": account_id, "meter_id": meter.pk},
            )
        )
    pages.append(reverse("cabinet:receipts:receipt_list", kwargs={"account_id": account_id}))
    receipt = Receipt.objects.filter(account_id=account_id).first()
    if receipt is not None:
        pages.append(
            reverse(
                "cabinet:receipts:receipt_detail",
                kwargs={"account_id": account_id, "receipt_id": receipt.pk},
            )
        )
    return pages


STAFF_PAGES = [
    "/office/",
    "/office/registry/personalaccount/",
    "/office/billing/charge/",
    "/office/two-factor/",
    "/office/tools/payments/",
    "/office/tools/receipts/",
    "/office/tools/readings/",
]


def assert_strict_csp(response, url):
    policy = response["Content-Security-Policy"]
    for directive in STRICT:
        assert directive in policy, (url, policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, url


def assert_no_store(response, url):
    assert "no-store" in response["Cache-Control"], url
    assert response["Pragma"] == "no-cache", url


def test_it_sets_the_policy_on_every_cabinet_page(client, world):
    client.force_login(get_user_model().objects.get(username="demo"))
    account_id = world.resident_account.id
    revalidated = {
        reverse(f"cabinet:{name}", kwargs={"account_id": account_id})
        for name in ("account", "charges", "payments")
    }
    for url in resident_pages(world):
        response = client.get(url)
        assert response.status_code in (200, 302), url  # the home page redirects to the account
        assert_strict_csp(response, url)
        if url in revalidated:
            # Kept by the browser only to be revalidated on every view (ETag → 304), never by a
            # shared cache; signing out clears them (docs/security.md).
            assert response["Cache-Control"] == "private, no-cache", url
            assert response.has_header("ETag"), url
        else:
            assert_no_store(response, url)


def test_it_sets_the_policy_on_the_back_office_and_office_tools(client, world):
    client.force_login(get_user_model().objects.get(username="operator"))
    for url in STAFF_PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict_csp(response, url)
        assert_no_store(response, url)


@pytest.mark.parametrize(
    "url", ["/accounts/login/", "/accounts/signup/", "/office/login/", "/accounts/password/reset/"]
)
def test_it_sets_the_policy_and_no_store_on_sign_in_pages(client, db, url):
    response = client.get(url)
    assert response.status_code == 200
    assert_strict_csp(response, url)
    assert_no_store(response, url)


def test_it_lets_public_pages_be_cached_by_the_browser(client, db):
    response = client.get(reverse("privacy"))
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == DEFAULT_CSP
    assert "no-store" not in response.get("Cache-Control", "")


def test_it_keeps_the_charts_own_policy_but_not_their_caching(client, world):
    client.force_login(get_user_model().objects.get(username="demo"))
    url = reverse("cabinet:chart_charges", kwargs={"account_id": world.resident_account.id})
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    assert "no-store" in response["Cache-Control"]
    assert "max-age=300" not in response["Cache-Control"]


def test_it_answers_a_missing_page_with_the_policy(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert_strict_csp(response, "/no-such-page/")


def test_it_leaves_static_files_their_own_caching(db, settings):
    from django.test import Client

    # WhiteNoise answers static files before the session is read: no no-store, even signed in.
    settings.WHITENOISE_USE_FINDERS = True
    client = Client()  # a fresh client builds its middleware with the setting above
    client.force_login(get_user_model().objects.create_user(username="u1", password="x" * 12))
    response = client.get("/static/css/site.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
    assert "max-age" in response["Cache-Control"]


def test_templates_have_nothing_inline(settings):
    """The CSP holds only if no template needs inline scripts, styles or handlers."""
    import re
    from pathlib import Path

    root = Path(settings.BASE_DIR) / "kvartplata"
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>"
        r"|\sstyle\s*=|<style[\s>]|\son[a-z]+\s*=",
        re.IGNORECASE,
    )
    offenders = []
    for path in root.glob("**/templates/**/*.html"):
        if "/email/" in str(path) or "/emails/" in str(path):
            continue  # e-mail bodies are not served under the CSP; mail clients need inline CSS
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if inline.search(line):
                offenders.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert offenders == []
