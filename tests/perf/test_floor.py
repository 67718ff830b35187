"""The benchmark's floor view: off (404) unless BENCH=1, and then one small write per POST."""

import pytest
from django.urls import reverse

URL = "/bench/floor"


def test_floor_is_a_404_when_off(owner_client, settings):
    settings.BENCH_FLOOR_ENABLED = False
    assert owner_client.get(URL).status_code == 404
    assert owner_client.post(URL).status_code == 404


def test_floor_needs_a_login(client, settings, db):
    settings.BENCH_FLOOR_ENABLED = True
    response = client.post(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_floor_rejects_other_methods(owner_client, settings):
    settings.BENCH_FLOOR_ENABLED = True
    assert owner_client.put(URL).status_code == 405


@pytest.mark.django_db
def test_floor_post_writes_the_session_once(owner_client, settings, django_assert_num_queries):
    settings.BENCH_FLOOR_ENABLED = True
    page = owner_client.get(URL)
    assert b"csrfmiddlewaretoken" in page.content
    # Session SELECT, user SELECT, and the one small write: the session UPDATE inside
    # SessionStore.save()'s atomic block (a SAVEPOINT/RELEASE pair inside the test transaction,
    # BEGIN/COMMIT in production, which are not counted there).
    with django_assert_num_queries(5):
        response = owner_client.post(URL)
    assert response.status_code == 200
    owner_client.post(URL)
    assert owner_client.session["bench_floor"] == 2
