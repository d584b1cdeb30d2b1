"""What every page of the office shares: staff access through the admin site (sign-in, two
factors), a permission per page, and the organization the staff member works for."""

import functools

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from kvartplata.registry.models import Organization


def office_view(permission: str):
    """A staff page: signed in to the office (else to its sign-in), holding `permission`."""

    def decorate(view):
        @functools.wraps(view)
        def checked(request, *args, **kwargs):
            if not request.user.has_perm(permission):
                raise PermissionDenied("Недостаточно прав для этой страницы.")
            return view(request, *args, **kwargs)

        return admin.site.admin_view(checked)

    return decorate


def office_organization(request) -> Organization:
    """The staff member's organization; a superuser picks one (?organization=id) or gets the
    first. Staff without an organization see nothing (404)."""
    user = request.user
    if user.is_superuser and not getattr(user, "organization_id", None):
        chosen = request.GET.get("organization")
        qs = Organization.objects.order_by("id")
        if chosen and chosen.isdigit():
            return get_object_or_404(qs, id=int(chosen))
        found = qs.first()
        if found is None:
            raise Http404("Нет ни одной организации.")
        return found
    if not getattr(user, "organization_id", None):
        raise Http404("Сотрудник не привязан к организации.")
    return user.organization


def office_context(request, **extra) -> dict:
    return {**admin.site.each_context(request), **extra}


# --- one office: every staff page under /office/ ----------------------------------------------

TOOLS = "/office/tools/"
READINGS = "/office/tools/readings/"


def moved(request, rest: str = "", *, to: str):
    """An old address of an office tool: permanently moved under /office/ (the query kept).

    GET and HEAD get 301; a form posted to the old address gets 308, which repeats the POST.
    """
    from django.http import HttpResponsePermanentRedirect

    url = to + rest
    if request.META.get("QUERY_STRING"):
        url += "?" + request.META["QUERY_STRING"]
    response = HttpResponsePermanentRedirect(url)
    if request.method not in ("GET", "HEAD"):
        response.status_code = 308
    return response


def meters_site_patterns() -> list:
    """The meters' site URLs with their staff pages under /office/tools/readings/ and the rest
    (the reminders' unsubscribe link) under /meters/, in the one namespace «meters_site»."""
    from django.urls import path

    from kvartplata.meters import site_urls

    patterns = []
    for pattern in site_urls.urlpatterns:
        route = str(pattern.pattern)
        if route.startswith("office/"):
            route = READINGS.lstrip("/") + route[len("office/") :]
        else:
            route = "meters/" + route
        patterns.append(path(route, pattern.callback, pattern.default_args, name=pattern.name))
    return patterns
