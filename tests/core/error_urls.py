"""The project's URLs plus views that fail in each way, for the error page tests."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from portico.urls import urlpatterns as project_urlpatterns


def forbidden(request):
    raise PermissionDenied


def bad_request(request):
    raise SuspiciousOperation("made up for the test")


def broken(request):
    raise RuntimeError("made up for the test")


urlpatterns = [
    *project_urlpatterns,
    path("test-errors/403", forbidden),
    path("test-errors/400", bad_request),
    path("test-errors/500", broken),
]
