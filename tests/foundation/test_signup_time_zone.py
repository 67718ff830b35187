"""Sign-up stores the browser's time zone; the settings page flags the UTC default and puts
its saved or failed message beside the Save button (issue 15, item 6)."""

import re

import pytest
from django.contrib.auth import get_user_model

from cards.models import StudySettings
from cards.services.settings import get_study_settings
from tests.history.test_settings_page import HTMX, VALID

SIGNUP = "/accounts/signup/"
SETTINGS = "/settings/"
NOTE = 'id="settings-zone-note"'


def sign_up(client, **extra):
    data = {"username": "dora", "password1": "a-long-pass-phrase-7"}
    data["password2"] = data["password1"]
    return client.post(SIGNUP, data | extra)


def stored_zone() -> str:
    return StudySettings.objects.get(user__username="dora").timezone


def test_the_form_carries_a_hidden_zone_field_and_the_script_that_fills_it(client, db):
    page = client.get(SIGNUP).content.decode()

    assert re.search(r'<input type="hidden" name="timezone"[^>]*>', page)
    assert re.search(r'<script src="/static/js/signup\.js" defer>', page)
    assert "<label" in page and 'for="id_timezone"' not in page  # no label for a hidden field


def test_sign_up_stores_the_zone_the_browser_sent(client, db):
    response = sign_up(client, timezone="America/New_York")

    assert response.status_code == 302 and response.url == "/"
    assert stored_zone() == "America/New_York"


@pytest.mark.parametrize(
    "zone",
    ["", "Mars/Olympus", "../../../etc/passwd", "localtime", "America/New_York\x00", "x" * 65],
)
def test_a_missing_or_unknown_zone_falls_back_to_utc_and_still_signs_up(client, db, zone):
    response = sign_up(client, timezone=zone)

    assert response.status_code == 302
    assert stored_zone() == "UTC"
    StudySettings.objects.get(user__username="dora").full_clean()


def test_no_zone_field_at_all_falls_back_to_utc(client, db):
    assert sign_up(client).status_code == 302
    assert stored_zone() == "UTC"


def test_a_refused_sign_up_stores_nothing(client, db):
    response = sign_up(client, timezone="Europe/Paris", password2="something-else-9")

    assert response.status_code == 200
    assert not get_user_model().objects.filter(username="dora").exists()
    assert not StudySettings.objects.exists()


def test_settings_flag_the_utc_default_with_a_link_to_the_zone_field(owner_client, owner):
    page = owner_client.get(SETTINGS).content.decode()

    assert NOTE in page
    assert "Your study day follows UTC" in page and 'href="#id_timezone"' in page


def test_settings_say_nothing_once_a_zone_is_set(owner_client, owner):
    settings = get_study_settings(owner)
    settings.timezone = "Europe/Paris"
    settings.save()

    assert NOTE not in owner_client.get(SETTINGS).content.decode()


def test_the_note_goes_when_a_zone_is_saved_and_stays_when_nothing_was(owner_client, owner):
    page = owner_client.post(SETTINGS, VALID, **HTMX).content.decode()
    assert NOTE not in page and "Your settings are saved." in page

    StudySettings.objects.filter(user=owner).update(timezone="UTC")
    page = owner_client.post(SETTINGS, VALID | {"maximum_interval": "0"}, **HTMX)
    page = page.content.decode()
    assert NOTE in page  # the Paris in the refused form was not saved
    assert StudySettings.objects.get(user=owner).timezone == "UTC"


def _status(page: str) -> str:
    match = re.search(
        r'<p id="settings-status" class="settings-status" role="status">(.*?)</p>', page
    )
    assert match, "the status region is always in the form"
    return re.sub(r"<[^>]+>", "", match.group(1))


def test_the_status_beside_save_is_empty_on_a_plain_visit(owner_client, owner):
    assert _status(owner_client.get(SETTINGS).content.decode()) == ""


def test_htmx_save_fills_the_status_beside_save_and_swaps_only_the_fields(owner_client, owner):
    page = owner_client.post(SETTINGS, VALID, **HTMX).content.decode()

    assert _status(page) == "Your settings are saved."
    # The page's form swaps #settings-fields and copies the status in: the button stays put.
    assert 'hx-target="#settings-fields"' in page and 'hx-select="#settings-fields"' in page
    assert 'hx-select-oob="#settings-status:innerHTML"' in page
    assert page.index('id="settings-fields"') < page.index("Save settings")


def test_htmx_errors_fill_the_status_too(owner_client, owner):
    page = owner_client.post(SETTINGS, VALID | {"day_start_hour": "x"}, **HTMX).content.decode()

    assert _status(page) == "Nothing was saved: correct the fields marked above."
    assert page.count('class="error"') == 1


def test_without_htmx_a_save_redirects_and_the_message_tops_the_page(owner_client, owner):
    response = owner_client.post(SETTINGS, VALID, follow=True)

    page = response.content.decode()
    assert response.redirect_chain == [(SETTINGS, 302)]
    assert '<ul class="messages" role="status">' in page and "Your settings are saved." in page
