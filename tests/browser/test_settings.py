"""The settings page in Chromium: field errors, saving, and the Optimise button polling to done."""

import pytest

from cards.scheduling import DEFAULT_PARAMETERS
from tests.browser.conftest import log_in
from tests.history.test_optimize_button import _store_history

pytestmark = pytest.mark.browser


def test_settings_are_validated_saved_and_optimised(page, live_server, page_errors, owner):
    from cards.models import OptimizerRun, StudySettings

    _store_history(owner)
    log_in(page, live_server, "alice")
    page.click("nav >> text=Settings")
    page.wait_for_url(f"{live_server.url}/settings/")

    page.fill("#id_desired_retention", "0.5")
    page.fill("#id_learning_steps", "1m 10x")
    page.click("text=Save settings")
    page.wait_for_selector("text=Nothing was saved")
    assert page.locator(".field.has-error").count() == 2
    assert "Choose a retention between 0.70 and 0.99." in page.content()

    page.fill("#id_desired_retention", "0.85")
    page.fill("#id_learning_steps", "1m 10m 1h")
    page.select_option("#id_timezone", "Europe/Berlin")
    page.click("text=Save settings")
    page.wait_for_selector("text=Your settings are saved.")
    settings = StudySettings.objects.get(user=owner)
    assert (settings.desired_retention, settings.learning_steps) == (0.85, [60, 600, 3600])
    assert settings.timezone == "Europe/Berlin"

    page.click("text=Optimise from my history")
    page.wait_for_selector("text=Last optimisation", timeout=20_000)  # polled every 2 s
    assert OptimizerRun.objects.get(user=owner).status == "done"
    assert "fit your history better" in page.content()
    page.click("summary")
    page.screenshot(path="/tmp/settings-page.png", full_page=True)

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("text=Reset to defaults")
    page.wait_for_selector("text=back to the FSRS-6 defaults")
    assert StudySettings.objects.get(user=owner).fsrs_parameters == list(DEFAULT_PARAMETERS)
    assert page_errors == []


def test_the_settings_page_fits_a_phone(mobile_page, live_server, page_errors, owner):
    log_in(mobile_page, live_server, "alice")
    mobile_page.goto(f"{live_server.url}/settings/")
    mobile_page.click("summary")
    width = mobile_page.evaluate("document.documentElement.scrollWidth")
    mobile_page.screenshot(path="/tmp/settings-phone.png", full_page=True)
    assert width <= 360
    assert page_errors == []
