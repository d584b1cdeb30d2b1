"""Views of the resident's cabinet."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def home(request):
    links = request.user.account_links.select_related("account__premises__building")
    return render(request, "cabinet/home.html", {"links": links})
