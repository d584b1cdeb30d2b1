"""Office tools outside the admin (payments, meters, receipts) need the admin's second factor."""

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse

from kvartplata.backoffice import two_factor


class OfficeTwoFactorMiddleware:
    """Sends staff who owe a second factor to the back office sign-in (or set-up) first.

    The tools check `is_staff` themselves (staff_member_required); this adds the rule of
    the admin site (OfficeAdminSite.has_permission) without touching each tool's views.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if two_factor.office_tool_path(request.path) and not two_factor.is_satisfied(request):
            if two_factor.must_enrol(request):
                return redirect("admin:two_factor")
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return self.get_response(request)
