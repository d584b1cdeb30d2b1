"""Security middleware: Content-Security-Policy, no-store for private pages.

The staff write audit is users.middleware.StaffAuditMiddleware (it logs through users.audit).
"""

from django.conf import settings
from django.utils.cache import add_never_cache_headers

# Everything from our own origin, nothing inline, no plugins, no framing (OWASP ASVS V14.4).
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# Pages under these prefixes carry personal data or secrets in forms even before sign-in
# (reset links, office tools); everything a signed-in user receives is covered regardless.
DEFAULT_NO_STORE_PREFIXES = ("/accounts/", "/office/", "/office-tools/", "/meters/office/")


def content_security_policy() -> str:
    return getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_CSP)


class ContentSecurityPolicyMiddleware:
    """Adds the site's strict policy to every response that has not set a policy of its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # A view with a narrower policy of its own (the SVG charts) keeps it.
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy()
        return response


def is_private_path(path: str) -> bool:
    prefixes = getattr(settings, "NO_STORE_PATH_PREFIXES", DEFAULT_NO_STORE_PREFIXES)
    return path.startswith(tuple(prefixes))


# A page that carries an ETag of everything it shows may be kept by the browser, which must
# then ask every time (If-None-Match → 304): never shared caches, never shown without asking.
REVALIDATE = "private, no-cache"


def revalidate_only(response):
    """Let the browser keep this private page, on condition that it asks again on every view."""
    response.revalidate_only = True
    return response


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every answer to a signed-in user and on private pages.

    Except the pages marked with ``revalidate_only`` (the account pages with their ETag), which
    get ``private, no-cache``: the browser keeps them and revalidates each view, so a repeat is a
    304. Signing out (or being signed out) clears what the browser kept: ``Clear-Site-Data``.
    Static files never get here: WhiteNoise answers them earlier with their long-lived caching.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        signed_in = request.user.is_authenticated
        response = self.get_response(request)
        # The user may have signed in or out during this request: either way it was private.
        if signed_in or request.user.is_authenticated or is_private_path(request.path):
            # Replace, not merge: a view's "private, max-age=…" must not survive on shared devices.
            del response["Cache-Control"]
            if getattr(response, "revalidate_only", False):
                response["Cache-Control"] = REVALIDATE
            else:
                add_never_cache_headers(response)
            response["Pragma"] = "no-cache"
        if signed_in and not request.user.is_authenticated:
            # Signed out: the pages the browser kept for revalidation go with the session.
            response["Clear-Site-Data"] = '"cache"'
        return response
