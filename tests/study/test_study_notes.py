"""Studying notes: a cloze card shows the blank and then the highlighted deletion, a reversed
card asks the back; answering one card buries its sibling (the study page moves on to another
note); Bury note (=) buries every card of the note and Z unburies them."""

from django.utils import timezone

from cards.models import MemoryState
from cards.services.notes import create_note

HTMX = {"HTTP_HX_REQUEST": "true"}


def token_of(response) -> str:
    import re

    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def shown(response):
    return response.context["current"].card


def test_a_cloze_card_asks_with_a_blank_and_answers_with_the_highlight(owner_client, deck):
    deck.cards.all().delete()
    note = create_note(deck, "cloze", {"Text": "The capital of Peru is {{c1::Lima::city}}."})
    page = owner_client.get(f"/decks/{deck.pk}/study/")
    assert shown(page).note_id == note.pk
    html = page.content.decode()
    assert '<span class="cloze">[city]</span>' in html
    assert '<span class="cloze">Lima</span>' in html  # in the answer, hidden until revealed


def test_a_reversed_note_asks_the_back_on_its_second_card(owner_client, owner, deck):
    deck.cards.all().delete()
    settings = owner.study_settings
    settings.bury_new_siblings = False
    settings.save()
    create_note(deck, "reversed", {"Front": "perro", "Back": "dog"})
    first = owner_client.get(f"/decks/{deck.pk}/study/")
    assert "<p>perro</p>" in first.context["current"].card.question_html
    second = owner_client.post(
        f"/decks/{deck.pk}/study/review/", {"token": token_of(first), "rating": "5"}, **HTMX
    )
    assert shown(second).question_html.strip() == "<p>dog</p>"
    assert shown(second).answer_html.strip() == "<p>perro</p>"


def test_answering_a_card_buries_its_sibling_and_the_queue_moves_on(owner_client, owner, deck):
    note = create_note(deck, "cloze", {"Text": "{{c1::one}} {{c2::two}}"})
    deck.cards.exclude(note=note).update(position=100)
    first = owner_client.get(f"/decks/{deck.pk}/study/")
    assert shown(first).note_id == note.pk
    after = owner_client.post(
        f"/decks/{deck.pk}/study/review/", {"token": token_of(first), "rating": "4"}, **HTMX
    )
    assert shown(after).note_id != note.pk
    sibling = note.cards.exclude(pk=shown(first).pk).get()
    assert MemoryState.objects.get(user=owner, card=sibling).buried_until > timezone.now()


def test_bury_note_buries_every_card_and_z_unburies_them(owner_client, owner, deck):
    note = create_note(deck, "reversed", {"Front": "perro", "Back": "dog"})
    card = note.cards.first()
    response = owner_client.post(f"/study/cards/{card.pk}/bury_note/", **HTMX)
    assert "Note (2 cards) buried until tomorrow" in response.content.decode()
    buried = MemoryState.objects.filter(user=owner, buried_until__gt=timezone.now())
    assert set(buried.values_list("card_id", flat=True)) == set(
        note.cards.values_list("pk", flat=True)
    )
    owner_client.post("/study/undo/", **HTMX)
    assert not MemoryState.objects.filter(user=owner, buried_until__gt=timezone.now()).exists()


def test_bury_note_without_javascript_redirects(owner_client, deck):
    card = deck.cards.first()
    response = owner_client.post(f"/decks/{deck.pk}/study/cards/{card.pk}/bury_note/")
    assert response.status_code == 302


def test_bury_note_of_another_users_private_card_is_a_404(client, other, deck):
    client.force_login(other)
    card = deck.cards.first()
    assert client.post(f"/study/cards/{card.pk}/bury_note/").status_code == 404
    assert client.get(f"/study/cards/{card.pk}/bury_note/").status_code in (404, 405)


def test_the_bury_settings_are_on_the_settings_page_and_in_the_backup(owner_client, owner):
    from cards.services.transfer import export_user_data
    from tests.history.test_settings_page import URL, VALID

    page = owner_client.get(URL).content.decode()
    for name in ("bury_new_siblings", "bury_review_siblings", "bury_interday_siblings"):
        assert f'name="{name}"' in page
    # An unticked box is off; the other two stay on.
    data = VALID | {"bury_review_siblings": "on", "bury_interday_siblings": "on"}
    assert owner_client.post(URL, data).status_code == 302
    owner.study_settings.refresh_from_db()
    settings = owner.study_settings
    assert (settings.bury_new_siblings, settings.bury_review_siblings) == (False, True)
    exported = export_user_data(owner)["settings"]
    assert exported["bury_new_siblings"] is False and exported["bury_interday_siblings"] is True


def test_the_bury_settings_come_back_from_a_backup(owner, other):
    from cards.services.data_import import import_user_data
    from cards.services.settings import get_study_settings
    from cards.services.transfer import export_user_data

    settings = get_study_settings(owner)
    settings.bury_review_siblings = False
    settings.save()
    import_user_data(other, export_user_data(owner))
    other.study_settings.refresh_from_db()
    assert other.study_settings.bury_review_siblings is False
    assert other.study_settings.bury_new_siblings is True
