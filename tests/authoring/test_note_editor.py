"""The note editor (views/cards_edit.py card_create and card_edit, forms_notes.NoteForm): the
four note kinds, errors named by field, editing a reversed or cloze note through any of its
cards, the preview (htmx and without JavaScript), access, query counts, the deck page badge."""

import pytest
from django.urls import reverse

from cards.models import Card, Deck, MemoryState, Note, NoteKind
from cards.services.notes import create_note

from .conftest import review

HX = {"HX-Request": "true"}


def latest_note(deck) -> Note:
    return Note.objects.filter(deck=deck).latest("pk")


def post_note(client, deck, kind, **fields):
    return client.post(reverse("card_create", args=[deck.pk]), {"kind": kind, **fields})


def test_the_editor_offers_the_four_kinds(owner_client, own_deck):
    page = owner_client.get(reverse("card_create", args=[own_deck.pk])).content.decode()
    for value, label in NoteKind.choices:
        if value == NoteKind.ANKI:  # only an import makes notes of an Anki note type
            assert f'value="{value}"' not in page
            continue
        assert f'value="{value}"' in page and label in page
    for name in ("front", "back", "add_reverse", "text", "back_extra", "tags"):
        assert f'name="{name}"' in page


def test_a_basic_note_makes_one_card(owner_client, own_deck):
    response = post_note(owner_client, own_deck, "basic", front="Capital of Peru?", back="Lima")
    note = latest_note(own_deck)
    (card,) = note.cards.all()
    assert response["Location"] == f"{own_deck.get_absolute_url()}#card-{card.pk}"
    assert (note.kind, card.question, card.answer) == ("basic", "Capital of Peru?", "Lima")


def test_a_reversed_note_makes_two_cards_the_second_asking_the_back(owner_client, own_deck):
    post_note(owner_client, own_deck, "reversed", front="perro", back="dog", tags="es")
    front, back = latest_note(own_deck).cards.order_by("ord")
    assert (front.question, front.answer) == ("perro", "dog")
    assert (back.question, back.answer) == ("dog", "perro")
    assert front.tags == back.tags == "es"
    assert back.position == front.position + 1


@pytest.mark.parametrize("reverse_wanted, count", [(True, 2), (False, 1)])
def test_an_optional_reversed_note_makes_the_reverse_only_when_asked(
    owner_client, own_deck, reverse_wanted, count
):
    extra = {"add_reverse": "on"} if reverse_wanted else {}
    post_note(owner_client, own_deck, "optional_reversed", front="gato", back="cat", **extra)
    note = latest_note(own_deck)
    assert note.cards.count() == count
    assert note.fields["Add Reverse"] == ("y" if reverse_wanted else "")


def test_a_cloze_note_makes_one_card_per_number(owner_client, own_deck):
    text = "{{c1::Lima}} is the capital of {{c2::Peru::country}}; {{c1::Lima}} again."
    response = post_note(owner_client, own_deck, "cloze", text=text, back_extra="*Andes*")
    assert response.status_code == 302
    first, second = latest_note(own_deck).cards.order_by("ord")
    assert first.question_html.count('<span class="cloze">[...]</span>') == 2
    assert "[country]" in second.question_html and "Lima" in second.question_html
    assert '<span class="cloze">Peru</span>' in second.answer_html
    assert "<em>Andes</em>" in second.answer_html


@pytest.mark.parametrize(
    "kind, fields, field, message",
    [
        ("basic", {"back": "b"}, "front", "is required"),
        ("cloze", {"text": "no deletion here"}, "text", "needs at least one cloze deletion"),
        ("cloze", {"text": "{{c1::never closed"}, "text", "is not closed"),
        ("nonsense", {"front": "f"}, "kind", "Choose one of the four note types."),
    ],
)
def test_errors_are_named_by_field_and_nothing_is_saved(
    owner_client, own_deck, kind, fields, field, message
):
    response = post_note(owner_client, own_deck, kind, **fields)
    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert any(message in error for error in errors)
    assert Note.objects.filter(deck=own_deck).count() == 4  # the fixture's Basic cards
    assert own_deck.cards.count() == 4


def test_the_older_question_and_answer_post_still_adds_a_basic_card(owner_client, own_deck):
    url = reverse("card_create", args=[own_deck.pk])
    response = owner_client.post(url, {"question": "Old Q", "answer": "Old A"})
    assert response.status_code == 302
    assert own_deck.cards.get(question="Old Q").note.kind == "basic"


def test_the_preview_shows_each_card_and_saves_nothing(owner_client, own_deck):
    url = reverse("card_create", args=[own_deck.pk])
    data = {"kind": "cloze", "text": "{{c1::a}} and {{c2::b::hint}}", "preview": "1"}
    fragment = owner_client.post(url, data, headers=HX)
    assert fragment.templates[0].name == "cards/_note_preview.html"
    body = fragment.content.decode()
    assert "2 cards." in body and "Card 1" in body and "Card 2" in body and "[hint]" in body
    assert "<html" not in body
    # Without JavaScript: the whole page, with the preview under the form.
    page = owner_client.post(url, data).content.decode()
    assert "<html" in page and "Card 2" in page and "[hint]" in page
    assert not Note.objects.filter(deck=own_deck, kind="cloze").exists()


def test_the_preview_names_the_field_in_error(owner_client, own_deck):
    url = reverse("card_create", args=[own_deck.pk])
    data = {"kind": "cloze", "text": "{{c1::open", "preview": "1"}
    body = owner_client.post(url, data, headers=HX).content.decode()
    assert "Text: a cloze deletion opened with {{c1:: is not closed" in body


def test_a_cloze_preview_escapes_a_hostile_hint(owner_client, own_deck):
    url = reverse("card_create", args=[own_deck.pk])
    data = {"kind": "cloze", "text": "{{c1::x::<img src=x onerror=alert(1)>}}", "preview": "1"}
    body = owner_client.post(url, data, headers=HX).content.decode()
    assert "<img" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body


@pytest.fixture
def cloze_note(own_deck):
    return create_note(own_deck, "cloze", {"Text": "{{c1::one}} {{c2::two}}"})


def test_editing_a_cloze_card_edits_its_note_adding_and_removing_cards(
    owner_client, own_deck, cloze_note, other
):
    first, second = cloze_note.cards.order_by("ord")
    state = review(other, first)
    url = reverse("card_edit", args=[second.pk])
    page = owner_client.get(url).content.decode()
    assert "Edit note" in page and "{{c1::one}} {{c2::two}}" in page

    response = owner_client.post(
        url, {"kind": "cloze", "text": "{{c1::uno}} {{c3::tres}}"}, follow=True
    )
    assert "Saved the note: 1 card added, 1 card removed with its history." in (
        response.content.decode()
    )
    assert sorted(cloze_note.cards.values_list("ord", flat=True)) == [0, 2]
    assert not Card.objects.filter(pk=second.pk).exists()
    first.refresh_from_db()
    assert "uno" in first.answer_html
    assert MemoryState.objects.get(pk=state.pk).due == state.due  # history kept


def test_editing_a_reversed_card_edits_both_directions(owner_client, own_deck):
    note = create_note(own_deck, "reversed", {"Front": "perro", "Back": "dog"})
    front, back = note.cards.order_by("ord")
    owner_client.post(
        reverse("card_edit", args=[back.pk]), {"kind": "reversed", "front": "can", "back": "dog"}
    )
    front.refresh_from_db()
    back.refresh_from_db()
    assert (front.question, back.answer) == ("can", "can")


def test_the_kind_of_a_note_cannot_be_changed_by_the_editor(owner_client, own_deck, cloze_note):
    card = cloze_note.cards.first()
    owner_client.post(reverse("card_edit", args=[card.pk]), {"kind": "basic", "front": "x"})
    cloze_note.refresh_from_db()
    assert cloze_note.kind == "cloze" and cloze_note.fields["Text"] == "{{c1::one}} {{c2::two}}"


def test_an_edit_error_is_named_and_changes_nothing(owner_client, own_deck, cloze_note):
    card = cloze_note.cards.first()
    response = owner_client.post(reverse("card_edit", args=[card.pk]), {"text": "plain"})
    assert "needs at least one cloze deletion" in response.context["form"].errors["text"][0]
    assert cloze_note.cards.count() == 2


def test_another_users_private_deck_is_a_404(owner_client, other):
    private = Deck.objects.create(owner=other, name="Bob's private")
    note = create_note(private, "cloze", {"Text": "{{c1::secret}}"})
    card = note.cards.get()
    assert owner_client.get(reverse("card_create", args=[private.pk])).status_code == 404
    assert post_note(owner_client, private, "cloze", text="{{c1::x}}").status_code == 404
    assert owner_client.get(reverse("card_edit", args=[card.pk])).status_code == 404
    data = {"kind": "cloze", "text": "{{c1::y}}", "preview": "1"}
    assert owner_client.post(reverse("card_edit", args=[card.pk]), data).status_code == 404
    note.refresh_from_db()
    assert note.fields["Text"] == "{{c1::secret}}"


def test_a_public_deck_of_another_user_cannot_be_edited(owner_client, public_deck):
    assert owner_client.get(reverse("card_create", args=[public_deck.pk])).status_code == 404


def test_staff_edit_a_public_decks_notes(client, staff, public_deck):
    client.force_login(staff)
    response = post_note(client, public_deck, "reversed", front="a", back="b")
    assert response.status_code == 302
    assert public_deck.cards.count() == 3


def test_anonymous_is_sent_to_log_in(client, own_deck):
    response = client.get(reverse("card_create", args=[own_deck.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_editor_query_counts(owner_client, own_deck, cloze_note, django_assert_num_queries):
    # Expect 3: session, user, deck.
    with django_assert_num_queries(3):
        owner_client.get(reverse("card_create", args=[own_deck.pk]))
    # Editing a cloze card: session, user, the card with its deck, its note, its cards' count.
    card = cloze_note.cards.first()
    with django_assert_num_queries(5):
        owner_client.get(reverse("card_edit", args=[card.pk]))
    # The live preview: session, user, deck; generating the cards needs no query.
    data = {"kind": "cloze", "text": "{{c1::a}} " * 50, "preview": "1"}
    with django_assert_num_queries(3):
        owner_client.post(reverse("card_create", args=[own_deck.pk]), data, headers=HX)


def test_the_deck_page_marks_siblings(
    owner_client, own_deck, cloze_note, django_assert_num_queries
):
    create_note(own_deck, "reversed", {"Front": "perro", "Back": "dog"})
    page = owner_client.get(own_deck.get_absolute_url()).content.decode()
    assert page.count("Cloze c1") == 1 and page.count("Cloze c2") == 1
    assert "Reverse · 2 cards in its note" in page and "Front · 2 cards in its note" in page
    # A cloze card's answer is generated from its note: edited through the note only.
    for card in cloze_note.cards.all():
        assert reverse("card_answer", args=[card.pk]) not in page
        assert f'<a href="{reverse("card_edit", args=[card.pk])}">Edit note</a>' in page
    for i in range(5):
        create_note(own_deck, "cloze", {"Text": f"{{{{c1::x{i}}}}} {{{{c2::y{i}}}}}"})
    with django_assert_num_queries(_deck_page_queries(owner_client, own_deck)):
        owner_client.get(own_deck.get_absolute_url())


def _deck_page_queries(client, deck) -> int:
    """The deck page's query count, measured once before more notes are added above."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(deck.get_absolute_url())
    return len(queries)
