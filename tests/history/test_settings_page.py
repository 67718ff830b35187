import pytest
from django.urls import reverse

from cards.forms import StepsField, format_steps
from cards.models import Card, Deck, OptimizerRun, ReviewLog, StudySettings
from cards.scheduling import DEFAULT_PARAMETERS
from cards.services.settings import get_study_settings

URL = "/settings/"
HTMX = {"HTTP_HX_REQUEST": "true"}
VALID = {
    "desired_retention": "0.85",
    "new_cards_per_day": "15",
    "reviews_per_day": "150",
    "learning_steps": "30s 5m 1h",
    "relearning_steps": "15m 1d",
    "timezone": "Europe/Paris",
    "day_start_hour": "3",
    "learn_ahead_minutes": "15",
    "maximum_interval": "3650",
    "rating_scale": "four",
    "leech_threshold": "3",
    "leech_action": "suspend",
}


def fields(user):
    settings = StudySettings.objects.get(user=user)
    return {name: getattr(settings, name) for name in VALID} | {
        "fsrs_parameters": settings.fsrs_parameters
    }


@pytest.fixture
def settings_row(owner):
    return get_study_settings(owner)


# -- access ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", URL),
        ("post", URL),
        ("post", "/settings/parameters/reset/"),
        ("post", "/settings/optimize/"),
        ("get", "/settings/optimize/status/"),
    ],
)
def test_it_requires_login(client, db, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("put", URL),
        ("delete", URL),
        ("get", "/settings/parameters/reset/"),
        ("get", "/settings/optimize/"),
        ("post", "/settings/optimize/status/"),
    ],
)
def test_it_rejects_the_wrong_method(owner_client, method, url):
    assert getattr(owner_client, method)(url).status_code == 405


# -- the page ----------------------------------------------------------------------------------


def test_it_shows_the_current_settings_and_parameters(owner_client, settings_row):
    page = owner_client.get(URL).content.decode()
    assert 'value="1m 10m"' in page and 'value="10m"' in page
    assert 'value="0.9"' in page and '<option value="Europe/Paris">Europe/Paris</option>' in page
    assert "w20" in page and f"{DEFAULT_PARAMETERS[3]:.4f}" in page
    assert "Optimise from my history" in page and "Reset to defaults" in page
    assert f'href="{URL}"' in page  # the nav link


def _many_cards(owner, n):
    deck = Deck.objects.create(owner=owner, name=f"Big {n}")
    cards = Card.objects.bulk_create(
        Card(deck=deck, question=f"Q{i}", answer="A") for i in range(n)
    )
    ReviewLog.objects.bulk_create(
        ReviewLog(
            user=owner,
            card=card,
            deck=deck,
            rating=3,
            grade=3,
            state_before=0,
            state_after=1,
            due_after="2024-01-01T00:00:00Z",
        )
        for card in cards
    )


@pytest.mark.parametrize("cards", [3, 600])
def test_the_page_takes_a_fixed_number_of_queries(
    owner_client, owner, settings_row, django_assert_num_queries, cards
):
    _many_cards(owner, cards)
    OptimizerRun.objects.create(user=owner, status="done", message="ok")
    # Expect 3 queries: session, user (with study settings), latest optimizer run
    with django_assert_num_queries(3):
        assert owner_client.get(URL).status_code == 200
    # Expect 4: session, user (with study settings), latest optimizer run, close a stale one
    with django_assert_num_queries(4):
        assert owner_client.get("/settings/optimize/status/", **HTMX).status_code == 200


def test_saving_valid_settings_stores_them_and_redirects(owner_client, owner, settings_row):
    response = owner_client.post(URL, VALID)

    assert response.status_code == 302 and response.url == URL
    saved = fields(owner)
    assert saved["learning_steps"] == [30, 300, 3600]
    assert saved["relearning_steps"] == [900, 86400]
    assert saved["desired_retention"] == 0.85 and saved["timezone"] == "Europe/Paris"
    assert (saved["day_start_hour"], saved["maximum_interval"]) == (3, 3650)
    assert (saved["new_cards_per_day"], saved["reviews_per_day"]) == (15, 150)
    assert saved["rating_scale"] == "four"
    assert "Your settings are saved." in owner_client.get(URL).content.decode()


def test_the_htmx_path_returns_the_form_alone(owner_client, owner, settings_row):
    response = owner_client.post(URL, VALID, **HTMX)

    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<form id="settings-form"') and "<html" not in page
    assert "Your settings are saved." in page and 'value="30s 5m 1h"' in page
    assert fields(owner)["learning_steps"] == [30, 300, 3600]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("desired_retention", "0.5", "Choose a retention between 0.70 and 0.99."),
        ("desired_retention", "0.995", "Choose a retention between 0.70 and 0.99."),
        ("desired_retention", "ninety", "Enter a number: a retention."),
        ("new_cards_per_day", "-1", "Choose a number of new cards between 0 and 9999."),
        ("reviews_per_day", "1e9", "Enter a number: a number of reviews."),
        ("learning_steps", "", "Give at least one learning step"),
        ("learning_steps", "1m 10x", "“10x” is not a step."),
        ("learning_steps", "0m", "“0m” is not a whole number of seconds."),
        ("learning_steps", "0.5s", "“0.5s” is not a whole number of seconds."),
        ("relearning_steps", "31d", "“31d” is too long"),
        ("relearning_steps", "1m " * 11, "Use at most 10 steps."),
        ("timezone", "Mars/Olympus", "Choose a time zone from the list."),
        ("day_start_hour", "24", "Choose an hour between 0 and 23."),
        ("maximum_interval", "0", "Choose a number of days between 1 and 36500."),
        ("rating_scale", "ten", "Choose one of the two rating scales."),
    ],
)
def test_it_refuses_a_bad_field_and_saves_nothing(
    owner_client, owner, settings_row, field, value, message
):
    before = fields(owner)

    response = owner_client.post(URL, VALID | {field: value})

    page = response.content.decode()
    assert response.status_code == 200
    assert message in page and "Nothing was saved" in page
    assert page.count('class="error"') == 1  # only that field is marked
    assert fields(owner) == before


def test_htmx_errors_come_back_in_the_form(owner_client, owner, settings_row):
    before = fields(owner)
    response = owner_client.post(URL, VALID | {"day_start_hour": "x"}, **HTMX)
    assert response.status_code == 200
    assert "Enter a number: an hour." in response.content.decode()
    assert fields(owner) == before


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1m 10m", [60, 600]),
        ("10m", [600]),
        ("1h", [3600]),
        ("1d", [86400]),
        ("30s, 1.5m", [30, 90]),
        ("5", [300]),
        ("  1M  2H ", [60, 7200]),
        ("", []),
    ],
)
def test_steps_are_read_like_anki(text, seconds):
    assert StepsField().clean(text) == seconds


def test_steps_are_shown_in_the_largest_whole_unit():
    assert format_steps([60, 600, 90, 3600, 86400, 172800, 45]) == "1m 10m 90s 1h 1d 2d 45s"


def test_reset_puts_the_default_parameters_back(owner_client, owner, settings_row):
    StudySettings.objects.filter(user=owner).update(fsrs_parameters=[1.0] * 21)

    response = owner_client.post("/settings/parameters/reset/")

    assert response.status_code == 302 and response.url == URL
    assert fields(owner)["fsrs_parameters"] == list(DEFAULT_PARAMETERS)


def test_reset_with_htmx_returns_the_parameters_panel(owner_client, owner, settings_row):
    StudySettings.objects.filter(user=owner).update(fsrs_parameters=[1.0] * 21)
    response = owner_client.post("/settings/parameters/reset/", **HTMX)
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="fsrs-parameters"')
    assert "back to the FSRS-6 defaults" in page and f"{DEFAULT_PARAMETERS[0]:.4f}" in page
