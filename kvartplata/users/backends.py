"""Authentication backend that throttles failed sign-ins per login and address (django-axes)."""

from axes.backends import AxesStandaloneBackend


class AxesBackend(AxesStandaloneBackend):
    """Axes' lockout check, skipped when there is no request to throttle.

    Web sign-ins always pass the request. Programmatic authentication (the test client's
    login(), management commands) has no client address, and axes would refuse it outright.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
