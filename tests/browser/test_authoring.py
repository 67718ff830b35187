"""Staff fill in a missing answer through the admin's preview page; a learner then studies it."""

from datetime import timedelta

import pytest

from tests.browser.conftest import log_in
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def seed_deck(db, seed_path):
    from cards.importers.load import parse_deck_file, save_deck

    return save_deck(parse_deck_file(seed_path.read_bytes(), seed_path.name), owner=None,
                     public=True).deck  # fmt: skip


def admin_log_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def test_staff_fill_an_answer_with_the_preview_and_a_learner_studies_it(
    browser, page, live_server, seed_deck, page_errors
):
    from django.utils import timezone

    from cards.models import MemoryState

    make_user("carol", is_staff=True, is_superuser=True)
    learner = make_user("dora")
    # The learner already studies every answered card (due next month), so the only card that
    # can come next is the one staff answer now.
    due = timezone.now() + timedelta(days=30)
    MemoryState.objects.bulk_create(
        MemoryState(
            user=learner,
            card=card,
            deck=seed_deck,
            state=2,
            stability=30,
            difficulty=5,
            due=due,
            last_review=timezone.now(),
            reps=3,
        )  # fmt: skip
        for card in seed_deck.cards.answered()
    )
    blank = seed_deck.cards.needing_answer().order_by("position").first()

    admin_log_in(page, live_server, "carol")
    page.click("text=Cards >> nth=-1")
    page.click("text=Fill missing answers")
    page.wait_for_selector(".fill-progress")
    assert "18 of 18 left" in page.inner_text(".fill-progress")
    page.select_option("#fill-deck", str(seed_deck.pk))
    page.click(".fill-deck-choice [type=submit]")
    assert blank.question[:40] in page.inner_text(".fill-question")

    page.click("#id_answer")
    page.keyboard.type(
        "Cross-attention lets the decoder **look at** the encoder:\n\n- keys\n- values"
    )
    page.wait_for_selector("#answer-preview strong")
    assert page.inner_text("#answer-preview strong") == "look at"
    assert page.locator("#answer-preview li").count() == 2
    page.click("button[value=save]")
    page.wait_for_selector("text=17 of 18 left")
    blank.refresh_from_db()
    assert "<strong>look at</strong>" in blank.answer_html
    assert page_errors == []

    context = browser.new_context()
    learner_page = context.new_page()
    log_in(learner_page, live_server, "dora")
    learner_page.goto(f"{live_server.url}/decks/{seed_deck.pk}/study/")
    learner_page.wait_for_selector("#study-card .study-item")
    assert int(learner_page.get_attribute("#study-card .study-item", "data-card")) == blank.pk
    learner_page.keyboard.press("Space")
    learner_page.wait_for_selector("#study-answer", state="visible")
    assert "look at" in learner_page.inner_text("#study-answer-text")
    token = learner_page.input_value("#study-card input[name=token]")
    learner_page.keyboard.press("4")
    learner_page.wait_for_function(
        "old => document.querySelector('#study-card input[name=token]')?.value !== old",
        arg=token,
    )
    context.close()
    from cards.models import ReviewLog

    assert ReviewLog.objects.get(user__username="dora").card_id == blank.pk
    assert page_errors == []


def test_an_owner_writes_an_answer_in_place_on_the_deck_page(page, live_server, db, page_errors):
    from cards.models import Card, Deck

    owner = make_user("alice")
    deck = Deck.objects.create(owner=owner, name="Mine")
    card = Card.objects.create(deck=deck, question="What is *htmx*?", answer="", position=1)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/decks/{deck.pk}/")
    page.click(f"#card-{card.pk} >> text=Write the answer")
    page.fill(f"#answer-{card.pk}", "Hypermedia **controls**")
    page.click(f"#card-{card.pk} button[type=submit]")
    page.wait_for_selector(f"#card-{card.pk} details")
    page.click(f"#card-{card.pk} summary")
    assert page.inner_text(f"#card-{card.pk} .answer strong") == "controls"
    assert page.url == f"{live_server.url}/decks/{deck.pk}/"  # swapped in place, no reload
    card.refresh_from_db()
    assert card.answer == "Hypermedia **controls**"
    assert page_errors == []
