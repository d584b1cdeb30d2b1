"""The site icon: linked from every page and answered at /favicon.ico instead of a 404."""

from django.templatetags.static import static


def test_it_redirects_favicon_ico_to_the_svg_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == static("favicon.svg")


def test_it_links_the_icon_from_the_base_layout(client, db):
    body = client.get("/accounts/login/").content.decode()
    assert f'rel="icon" href="{static("favicon.svg")}"' in body
