"""Shared assertions for the security tests."""

from django.conf import settings

EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def parse_csp(header: str) -> dict[str, str]:
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives[name] = value.strip()
    return directives


def assert_csp(response):
    """The strict policy is on the response: scripts from this origin only, nothing inline."""
    header = response.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.status_code} {response.request}"
    directives = parse_csp(header)
    assert directives == EXPECTED_CSP, directives
    assert "unsafe" not in header
    assert settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"] == ["'self'"]


def assert_permissions_policy(response):
    """Powerful browser features are denied on every response."""
    header = response.get("Permissions-Policy", "")
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in header, f"{feature} allowed on {response.status_code}: {header}"


def assert_private(response):
    """A response to a logged-in user stays out of shared caches and off the disk."""
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    assert {"private", "no-store"} <= directives, (response.status_code, directives)
    assert "public" not in directives
