from unittest import mock

from django.db.utils import OperationalError


def test_it_answers_after_a_database_round_trip(client, db, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_it_reports_a_database_failure(client, db):
    with mock.patch("cards.views.health.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "OperationalError"


def test_it_rejects_post(client, db):
    assert client.post("/healthz").status_code == 405
