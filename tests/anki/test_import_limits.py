"""An Anki package is held to the per-user limits before anything is written: its cards to
APKG_MAX_CARDS, the decks it creates to USER_MAX_DECKS, each deck to DECK_MAX_CARDS; a
re-import counts only the cards beyond those a deck already holds from Anki."""

import pytest

pytest.importorskip("anki", reason="the packages are made by the `anki` package (dev extra)")

from cards.anki.importer import ApkgImportError  # noqa: E402
from cards.models import Card, Deck, Note, NoteType, ReviewLog  # noqa: E402

from .builders import build_collection, expected_content, export_apkg, import_file  # noqa: E402
from .test_import_idempotent import counts  # noqa: E402


@pytest.fixture
def package(tmp_path):
    col = build_collection(tmp_path)
    try:
        path = export_apkg(col, tmp_path / "limits.apkg", legacy=False)
        yield path, expected_content(col)
    finally:
        col.close()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("learner")


def refused(path, user, match):
    before = counts()
    with pytest.raises(ApkgImportError, match=match):
        import_file(path, user)
    assert counts() == before  # nothing written, not even note types or images


@pytest.mark.django_db
def test_too_many_cards_in_the_package(package, user, settings):
    path, expected = package
    settings.APKG_MAX_CARDS = len(expected.cards) - 1
    refused(path, user, rf"has {len(expected.cards)} cards.*APKG_MAX_CARDS")


@pytest.mark.django_db
def test_too_many_decks_for_the_user(package, user, settings):
    path, _ = package
    Deck.objects.create(owner=user, name="Mine")
    settings.USER_MAX_DECKS = 2
    refused(path, user, r"you have 1 decks and this would add \d+.*USER_MAX_DECKS")


@pytest.mark.django_db
def test_a_deck_too_big_is_refused_and_a_reimport_counts_only_new_cards(package, user, settings):
    path, _ = package
    import_file(path, user)
    biggest = max(Deck.objects.filter(owner=user), key=lambda deck: deck.cards.count())
    size = biggest.cards.count()
    assert size > 1
    settings.DECK_MAX_CARDS = size
    before = (Card.objects.count(), Note.objects.count(), ReviewLog.objects.count())
    import_file(path, user)  # the same cards again: updated in place, within the limit
    assert (Card.objects.count(), Note.objects.count(), ReviewLog.objects.count()) == before
    Deck.objects.filter(owner=user).delete()
    NoteType.objects.all().delete()
    settings.DECK_MAX_CARDS = size - 1
    refused(path, user, rf"the new deck has 0 cards and this would add {size}.*DECK_MAX_CARDS")
