"""Sign-up takes the browser's time zone; the settings page says when it is still UTC, and
shows its saved or failed message beside Save, in view on a phone (issue 15, item 6)."""

import pytest

from tests.browser.conftest import _new_page, _screenshot_on_failure, log_in, sign_up

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
ZONE_NOTE = "#settings-zone-note"


@pytest.fixture
def open_page(browser, request, page_errors, live_server):
    opened = []

    def open_(**options):
        context, page = _new_page(browser, request, page_errors, **options)
        opened.append(page)
        return page

    yield open_
    for page in opened:
        _screenshot_on_failure(request, page)
        page.context.close()


def in_view(page, selector) -> bool:
    return page.eval_on_selector(
        selector,
        "e => { const r = e.getBoundingClientRect();"
        " return r.height > 0 && r.top >= 0 && r.bottom <= innerHeight; }",
    )


# Chromium names some zones by their older tz-database links (Asia/Calcutta): kept as named.
@pytest.mark.parametrize(
    ("zone", "named"),
    [("America/New_York", "America/New_York"), ("Asia/Kolkata", "Asia/Calcutta")],
)
def test_sign_up_takes_the_time_zone_of_the_browser(
    open_page, live_server, page_errors, zone, named
):
    from cards.models import StudySettings

    page = open_page(viewport={"width": 1280, "height": 800}, timezone_id=zone)
    sign_up(page, live_server, "nora")

    assert StudySettings.objects.get(user__username="nora").timezone == named
    page.goto(f"{live_server.url}/settings/")
    assert page.input_value("#id_timezone") == named
    assert page.locator(ZONE_NOTE).count() == 0
    assert page_errors == []


def test_without_javascript_sign_up_falls_back_to_utc_and_settings_says_so(open_page, live_server):
    from cards.models import StudySettings

    page = open_page(java_script_enabled=False, timezone_id="America/New_York")
    sign_up(page, live_server, "nora")
    assert StudySettings.objects.get(user__username="nora").timezone == "UTC"

    page.goto(f"{live_server.url}/settings/")
    note = page.locator(ZONE_NOTE)
    assert note.is_visible() and "Your study day follows UTC" in note.inner_text()
    note.get_by_role("link", name="set your time zone").click()
    page.wait_for_url("**#id_timezone")
    assert in_view(page, "#id_timezone")

    page.select_option("#id_timezone", "America/New_York")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_url(f"{live_server.url}/settings/")
    assert page.locator(ZONE_NOTE).count() == 0
    # A full page load: the message is at the top, where the new page opens.
    assert in_view(page, ".messages") and "Your settings are saved." in page.inner_text(".messages")


def test_saving_on_a_phone_shows_the_message_beside_save_and_keeps_focus(
    open_page, live_server, owner, page_errors
):
    from cards.models import StudySettings

    page = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/settings/")
    assert page.locator(ZONE_NOTE).is_visible()  # alice was made without a zone
    status = page.locator("#settings-status")
    assert status.get_attribute("role") == "status"

    # The learner edits a field near the top, and Save is pinned in sight all along.
    page.fill("#id_new_cards_per_day", "12")
    assert in_view(page, ".settings-save button")
    page.select_option("#id_timezone", "Europe/Berlin")
    page.focus(".settings-save button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#settings-status >> text=Your settings are saved.")
    assert in_view(page, "#settings-status")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Save settings"
    stored = StudySettings.objects.get(user=owner)
    assert (stored.new_cards_per_day, stored.timezone) == (12, "Europe/Berlin")
    assert page.locator(ZONE_NOTE).count() == 0  # the fields were swapped with the new zone

    # Bad input, far down the form: the failure shows beside Save, the field says why.
    page.fill("#id_maximum_interval", "0")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_selector("#settings-status >> text=Nothing was saved")
    assert in_view(page, "#settings-status")
    assert "Choose a number of days between 1 and 36500." in page.inner_text("#settings-fields")
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    assert StudySettings.objects.get(user=owner).maximum_interval == 36500
    assert page_errors == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_save_bar_and_note_take_the_colours_of_the_scheme(
    open_page, live_server, owner, page_errors, scheme
):
    page = open_page(viewport=PHONE, color_scheme=scheme)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/settings/")
    colours = page.evaluate(
        "() => ['.settings-save', '.card-panel', '#settings-zone-note']"
        ".map(s => getComputedStyle(document.querySelector(s)))"
        ".map(s => [s.backgroundColor, s.color])"
    )
    bar, panel, note = colours
    assert bar[0] == panel[0]  # the bar is the panel's own opaque surface
    assert note[1] == panel[1]
    expected = {"light": "rgb(255, 255, 255)", "dark": "rgb(30, 33, 39)"}[scheme]
    assert panel[0] == expected
    assert page_errors == []
