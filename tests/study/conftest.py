import pytest

from cards.markdown import render_markdown
from cards.models import Card, Deck
from tests.conftest import start_days_far_from_now


def add_cards(deck, count, start=1, answer="An answer"):
    """Bulk cards (save() is skipped, so the HTML is rendered here)."""
    cards = [
        Card(
            deck=deck,
            question=f"Question {i}?",
            answer=answer,
            question_html=render_markdown(f"Question {i}?"),
            answer_html=render_markdown(answer),
            position=i,
        )
        for i in range(start, start + count)
    ]
    Card.objects.bulk_create(cards, batch_size=1000)


@pytest.fixture
def deck(owner):
    """Alice's private deck: two answered cards around a blank one."""
    start_days_far_from_now(owner)
    deck = Deck.objects.create(owner=owner, name="Alice's deck")
    Card.objects.create(deck=deck, question="What is **FSRS**?", answer="A scheduler", position=1)
    Card.objects.create(deck=deck, question="Blank one?", answer="", position=2)
    Card.objects.create(deck=deck, question="What is htmx?", answer="A library", position=3)
    return deck
