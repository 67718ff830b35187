"""The project's URLs plus views that fail on purpose, for the error page tests."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from studyapp.urls import urlpatterns as project_urlpatterns


class SecretFailure(RuntimeError):
    pass


def boom(request):
    secret = "s3cr3t-local-variable"  # noqa: F841 - must never reach the page
    raise SecretFailure("database password is hunter2")


def forbidden(request):
    raise PermissionDenied


def suspicious(request):
    raise SuspiciousOperation("tampered")


urlpatterns = [
    path("test-errors/boom/", boom),
    path("test-errors/forbidden/", forbidden),
    path("test-errors/suspicious/", suspicious),
    *project_urlpatterns,
]
