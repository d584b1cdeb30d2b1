"""URLconf of the pages benchmark: the real site plus one trivial view to compare with.

The trivial view exists only here, never in the product's URLconf.
"""

from django.http import HttpResponse
from django.urls import include, path


def trivial(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/trivial/", trivial),
    path("", include("kvartplata.urls")),
]
