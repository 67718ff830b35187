"""Every URL pattern of the project, walked with alice's private objects in its parameters.

- bob (another user) gets a 404 for each of them, full page and htmx, GET and POST, and never
  sees alice's private text; the admin sends him to its log-in page;
- so does dave, a staff account with no permissions: staff curate public decks, never another
  user's private one (outside the admin, whose own permissions then refuse him);
- anonymous visitors are sent to log in, except on the views marked login_not_required;
- a GET never writes to the database (state-changing views refuse it, usually with 405);
- every POST needs the CSRF token; a foreign Origin is refused even with one;
- every response carries the Content-Security-Policy and the Permissions-Policy, and every
  response to a logged-in user `Cache-Control: private, no-store`.

The list of routes is read from the URL resolver at collection time: new views are walked
without editing this file. urlwalk.PARAM_OBJECTS says which object a parameter name means.
"""

import pytest
from django.conf import settings
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from tests.conftest import make_user
from tests.security.checks import assert_csp, assert_permissions_policy, assert_private
from tests.security.conftest import PRIVATE_MARKERS
from tests.security.urlwalk import all_routes, db_fingerprint, diff_fingerprints, fill

ROUTES = all_routes()
IDS = [route.id for route in ROUTES]
HTMX = {"HTTP_HX_REQUEST": "true"}
CSRF_PAGE = "Please try that again"
# Nothing in the project may switch off the CSRF check.
CSRF_EXEMPT_ALLOWED: set[str] = set()


def _assert_nothing_private(response, url):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    body = content.decode(errors="replace")
    for marker in PRIVATE_MARKERS:
        assert marker not in body, f"{url} ({response.status_code}) shows {marker}"


def _assert_to_admin(response, url):
    """The admin turns a non-staff user away: to its log-in page (or its index, from log-out)."""
    assert response.status_code == 302, f"{url}: {response.status_code}, not a redirect"
    assert response["Location"].startswith("/admin/"), f"{url} -> {response['Location']}"
    assert "login" in response["Location"] or url == "/admin/logout/", response["Location"]


def _assert_to_login(response, url):
    assert response.status_code == 302, f"{url}: {response.status_code}, not a redirect to log in"
    assert "login" in response["Location"], f"{url} redirects to {response['Location']}"


def test_the_walk_finds_the_project_views():
    ids = set(IDS)
    assert {"/", "/decks/<int:deck_id>/", "/accounts/login/", "/admin/"} <= ids
    assert all(not route.unfillable for route in ROUTES), [r.id for r in ROUTES if r.unfillable]


def _assert_policies(response, logged_in=True):
    assert_csp(response)
    assert_permissions_policy(response)
    if logged_in:
        assert_private(response)


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_the_route_is_safe(world, route):
    """One test per route (the setup costs more than the checks): each check is a function."""
    anonymous_visitors_reach_nothing_private(Client(), world, route)
    another_user_reaches_none_of_the_private_objects(Client(), world, route, world.other)
    plain_staff = make_user("dave", is_staff=True)  # no permissions, not a superuser
    another_user_reaches_none_of_the_private_objects(Client(), world, route, plain_staff)
    if not route.is_framework_admin:
        a_get_never_writes(Client(), world, route)
        every_post_needs_the_csrf_token(world, route)


def anonymous_visitors_reach_nothing_private(client, world, route):
    for url in fill(route, world):
        responses = [client.get(url), client.post(url)]
        if not route.is_admin:
            responses.append(client.get(url, **HTMX))
        for response in responses:
            _assert_policies(response, logged_in=False)
            _assert_nothing_private(response, url)
            if route.login_required:
                _assert_to_login(response, url)


def another_user_reaches_none_of_the_private_objects(client, world, route, user):
    client.force_login(user)
    for url in fill(route, world):
        before = db_fingerprint()
        responses = [client.get(url), client.post(url)]
        if not route.is_admin:
            responses += [client.get(url, **HTMX), client.post(url, **HTMX)]
        for response in responses:
            _assert_policies(response)
            _assert_nothing_private(response, url)
            if route.is_admin:
                # All but the admin's own log-in page; staff get in, and its permissions refuse.
                if route.login_required and not user.is_staff:
                    _assert_to_admin(response, url)
            elif route.object_params:
                # 405 only where the method is refused before anything is looked up.
                assert response.status_code in (404, 405), f"{url}: {response.status_code}"
        if route.object_params:
            assert diff_fingerprints(before, db_fingerprint()) == [], url
            assert any(r.status_code == 404 for r in responses) or route.is_admin, url
    if not route.object_params and not route.is_admin:
        _query_params_reach_nothing_private(client, world, route)
    if route.object_params and not route.is_admin and user == world.other:
        _assert_the_owner_reaches_it(route, world)


def _private_rows(world):
    """alice's own rows, which nothing bob sends may change."""
    from cards.models import Card, Deck, MemoryState, OptimizerRun, ReviewLog, StudySettings

    owner = world.owner
    querysets = [Deck.objects.filter(owner=owner), Card.objects.filter(deck__owner=owner)]
    querysets += [m.objects.filter(user=owner)
                  for m in (MemoryState, ReviewLog, StudySettings, OptimizerRun)]  # fmt: skip
    return [sorted(map(repr, qs.values_list())) for qs in querysets]


def _query_params_reach_nothing_private(client, world, route):
    """Views without ids in the path may take them from the query or the form: try them."""
    ids = {"deck": world.ids["deck"], "card": world.ids["card"], "deck_id": world.ids["deck"],
           "card_id": world.ids["card"], "reveal": "1", "show": "all",
           "review": world.ids["review"], "run": world.ids["optimizer_run"]}  # fmt: skip
    before = _private_rows(world)
    for url in fill(route, world):
        for response in (client.get(url, ids), client.get(url, ids, **HTMX),
                         client.post(url, ids, **HTMX), client.post(url, ids)):  # fmt: skip
            _assert_nothing_private(response, f"{url} with {ids}")
    assert _private_rows(world) == before, url


def _assert_the_owner_reaches_it(route, world):
    """The control: alice herself is not refused, so bob's 404 was about ownership."""
    client = Client()
    client.force_login(world.owner)
    for url in fill(route, world):
        response = client.get(url)
        if response.status_code == 405:
            response = client.post(url)
        if response.status_code != 404:
            return
    pytest.fail(f"{route.id}: even the owner gets 404; teach urlwalk.PARAM_OBJECTS its params")


def a_get_never_writes(client, world, route):
    client.force_login(world.staff if route.is_admin else world.owner)
    for url in fill(route, world):
        for headers in ({}, HTMX):
            before = db_fingerprint()
            response = client.get(url, **headers)
            _assert_policies(response)
            assert diff_fingerprints(before, db_fingerprint()) == [], f"GET {url} wrote"
            if response.status_code == 405:
                assert "GET" not in response["Allow"]


def test_the_state_changing_views_refuse_get(client, world):
    """The walk recognises them: these must answer 405 to a GET."""
    client.force_login(world.owner)
    post_only = {
        route.id
        for route in ROUTES
        if not route.is_admin and client.get(fill(route, world)[0]).status_code == 405
    }
    expected = {"/accounts/logout/"}
    expected |= {r.id for r in ROUTES if r.name and r.name.endswith(("_review", "_undo"))}
    assert expected <= post_only, expected - post_only


def test_no_view_is_csrf_exempt():
    exempt = {route.id for route in ROUTES if route.csrf_exempt}
    assert exempt <= CSRF_EXEMPT_ALLOWED, exempt


def every_post_needs_the_csrf_token(world, route):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.staff if route.is_admin else world.owner)
    url = fill(route, world)[0]

    response = client.post(url)
    assert response.status_code == 403 and CSRF_PAGE in response.text, url
    assert_csp(response)

    token = _get_new_csrf_string()
    client.cookies[settings.CSRF_COOKIE_NAME] = token
    response = client.post(url, HTTP_X_CSRFTOKEN=token, HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403 and CSRF_PAGE in response.text, url

    response = client.post(url, HTTP_X_CSRFTOKEN=token, HTTP_ORIGIN="http://testserver", **HTMX)
    if not response.streaming:  # a download (the .apkg export) is no page to look into
        assert CSRF_PAGE not in response.text, url
