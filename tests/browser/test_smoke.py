import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_a_user_logs_in_and_sees_the_seed_deck(page, live_server, owner, seed_path, page_errors):
    from django.core.management import call_command

    call_command("import_deck", str(seed_path), "--public")

    log_in(page, live_server, "alice")

    assert page.get_by_role("link", name="Generative AI Flashcards").is_visible()
    assert page_errors == []
