#!/usr/bin/env python3
"""The Docker HEALTHCHECK: GET /healthz on this container, as a host Django accepts.

Django answers a Host header outside ALLOWED_HOSTS with 400, so asking for 127.0.0.1 fails
on a site configured for study.example.org; this asks with the first allowed host instead.
Exit status 0 when /healthz answers 200.
"""

import os
import sys
import urllib.request


def host_header(allowed_hosts: str) -> str:
    """A Host header that matches the first entry of ALLOWED_HOSTS (comma-separated)."""
    first = next((h.strip() for h in allowed_hosts.split(",") if h.strip()), "localhost")
    if first == "*":
        return "localhost"
    return first.lstrip(".")  # ".example.org" allows example.org itself


def main() -> int:
    host = host_header(os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]"))
    port = os.environ.get("PORT", "8000")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz",
        # The proxy's header: with SECURE_SSL_REDIRECT nothing would redirect to https anyway
        # (/healthz is exempt), but the request then looks like every other one.
        headers={"Host": host, "X-Forwarded-Proto": "https"},
    )
    try:
        with urllib.request.urlopen(request, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy"
        print(f"healthcheck: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
