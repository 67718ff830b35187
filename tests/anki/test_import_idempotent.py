"""Importing the same Anki package again, all-or-nothing on failure, and query counts that do
not grow with the package."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytest.importorskip("anki", reason="the packages are made by the `anki` package (dev extra)")

from anki.collection import Collection  # noqa: E402

from cards.anki import importer as importer_module  # noqa: E402
from cards.anki.importer import ApkgImportError  # noqa: E402
from cards.models import (  # noqa: E402
    Card,
    Deck,
    MediaFile,
    MemoryState,
    Note,
    NoteType,
    ReviewLog,
)

from .builders import build_collection, export_apkg, import_file  # noqa: E402

MODELS = (Deck, Note, Card, ReviewLog, MemoryState, MediaFile, NoteType)


def counts():
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture
def col(tmp_path):
    col = build_collection(tmp_path)
    yield col
    col.close()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("learner")


@pytest.mark.django_db
def test_importing_again_changes_nothing(col, user, tmp_path):
    path = export_apkg(col, tmp_path / "a.apkg", legacy=False)
    first = import_file(path, user)
    before = counts()
    assert all(before.values()), before
    second = import_file(path, user)
    assert counts() == before
    assert second.notes_unchanged == first.notes_created and second.notes_created == 0
    assert second.cards_created == 0 and second.cards_updated == 0
    assert second.reviews_created == 0 and second.reviews_already == first.reviews_created
    assert second.decks_created == 0 and second.images == 0


@pytest.mark.django_db
def test_an_edit_in_anki_updates_the_note_and_keeps_history(col, user, tmp_path):
    import_file(export_apkg(col, tmp_path / "a.apkg", legacy=False), user)
    note_id = col.find_notes("Front:vivir")[0]
    anki_note = col.get_note(note_id)
    card = Card.objects.get(note__guid=anki_note.guid, ord=0)
    history = list(card.review_logs.values_list("pk", flat=True))
    anki_note["Back"] = "to <b>live</b>"
    anki_note.tags = ["edited"]
    col.update_note(anki_note)
    before = counts()
    summary = import_file(export_apkg(col, tmp_path / "b.apkg", legacy=False), user)
    assert counts() == before
    assert summary.notes_updated == 1 and summary.cards_updated == 2
    note = Note.objects.get(guid=anki_note.guid)
    assert note.fields["Back"] == "to **live**" and note.tags == "edited"
    card.refresh_from_db()
    assert "<strong>live</strong>" in card.answer_html and card.tags == "edited"
    assert list(card.review_logs.values_list("pk", flat=True)) == history


@pytest.mark.django_db
def test_new_reviews_in_anki_are_added_once(col, user, tmp_path):
    first = import_file(export_apkg(col, tmp_path / "a.apkg", legacy=False), user)
    col.decks.select(col.decks.id("Lang"))
    queued = col.sched.get_queued_cards(fetch_limit=1).cards[0]
    card = col.get_card(queued.card.id)
    card.start_timer()
    col.sched.answer_card(col.sched.build_answer(card=card, states=queued.states, rating=2))
    second = import_file(export_apkg(col, tmp_path / "b.apkg", legacy=False), user)
    assert second.reviews_created == 1
    assert second.reviews_already == first.reviews_created
    assert ReviewLog.objects.count() == first.reviews_created + 1
    memory = MemoryState.objects.get(user=user, card__note__guid=card.note().guid,
                                     card__ord=card.ord)  # fmt: skip
    data = col.get_card(card.id).memory_state
    assert memory.stability == pytest.approx(data.stability, abs=1e-3)


@pytest.mark.django_db
@pytest.mark.parametrize("stop_at", [1, 2, 5])
def test_a_failure_midway_removes_everything(col, user, tmp_path, settings, stop_at):
    """Stopped after the first notes batch, in the history phase, and at the very end."""
    settings.IMPORT_BATCH_CARDS = 2
    path = export_apkg(col, tmp_path / "a.apkg", legacy=False)
    calls = []

    def progress(done, total):
        calls.append(done)
        if len(calls) == stop_at:
            raise RuntimeError("stopped on purpose")

    with pytest.raises(ApkgImportError, match="stopped on purpose.*removed again"):
        import_file(path, user, progress=progress)
    assert counts() == dict.fromkeys(counts(), 0)


@pytest.mark.django_db
def test_a_failure_on_reimport_keeps_the_first_import(col, user, tmp_path, settings):
    path = export_apkg(col, tmp_path / "a.apkg", legacy=False)
    import_file(path, user)
    before = counts()
    col.decks.id("Lang::New")
    note = col.new_note(col.models.by_name("Basic"))
    note["Front"], note["Back"] = "nuevo", "new"
    col.add_note(note, col.decks.id("Lang::New"))

    def progress(done, total):
        raise RuntimeError("stop")

    with pytest.raises(ApkgImportError):
        import_file(export_apkg(col, tmp_path / "b.apkg", legacy=False), user, progress=progress)
    assert counts() == before


@pytest.mark.django_db
def test_a_note_that_fails_is_named(col, user, tmp_path, monkeypatch):
    real = importer_module.generate

    def failing(kind, fields, *args, **kwargs):
        if fields.get("Front") == "vivir":
            raise RuntimeError("broken for the test")
        return real(kind, fields, *args, **kwargs)

    monkeypatch.setattr(importer_module, "generate", failing)
    with pytest.raises(ApkgImportError, match=r"“vivir” \(Anki note \d+\): broken for the test"):
        import_file(export_apkg(col, tmp_path / "a.apkg", legacy=False), user)
    assert counts() == dict.fromkeys(counts(), 0)


@pytest.mark.django_db
def test_a_note_our_kind_cannot_represent_is_listed_and_the_rest_imports(col, user, tmp_path):
    note = col.new_note(col.models.by_name("Basic"))
    note["Front"], note["Back"] = "<div><br></div>", "only markup on the front"
    col.add_note(note, col.decks.id("Lang::French"))
    summary = import_file(export_apkg(col, tmp_path / "a.apkg", legacy=False), user)
    assert len(summary.cards_skipped) == 1
    assert f"(Anki note {note.id}), 1 cards: Front: is required" in summary.cards_skipped[0]
    assert not Note.objects.filter(guid=note.guid).exists()
    assert Note.objects.count() == len(col.find_notes("")) - 1


def _reviewed_collection(folder, notes: int) -> Collection:
    col = Collection(str(folder / f"n{notes}.anki2"))
    col.set_config("fsrs", True)
    deck_id = col.decks.id("Big::Deck")
    basic = col.models.by_name("Basic")
    for i in range(notes):
        note = col.new_note(basic)
        note["Front"], note["Back"] = f"q{i} <b>x</b>", f"a{i}"
        note.tags = ["t"]
        col.add_note(note, deck_id)
    col.decks.select(deck_id)
    for _ in range(notes * 2):
        queued = col.sched.get_queued_cards(fetch_limit=1).cards
        if not queued:
            break
        card = col.get_card(queued[0].card.id)
        card.start_timer()
        col.sched.answer_card(col.sched.build_answer(card=card, states=queued[0].states,
                                                     rating=2))  # fmt: skip
    return col


@pytest.mark.django_db
def test_query_count_does_not_grow_with_the_package(tmp_path, django_user_model):
    sizes = {}
    for n in (3, 15):
        col = _reviewed_collection(tmp_path, n)
        path = export_apkg(col, tmp_path / f"n{n}.apkg", legacy=False)
        col.close()
        user = django_user_model.objects.create_user(f"u{n}")
        with CaptureQueriesContext(connection) as queries:
            summary = import_file(path, user)
        assert summary.cards_created == n and summary.reviews_created >= n
        sizes[n] = len(queries)
    assert sizes[3] == sizes[15], sizes


@pytest.mark.django_db
def test_a_card_whose_history_fails_is_named(col, user, tmp_path, monkeypatch):
    from cards.anki import importer_history

    real = importer_history.replay_card_logs
    failing_pk = []

    def failing(card, logs, policy):
        if not failing_pk:
            failing_pk.append(card.pk)
            raise RuntimeError("replay broke")
        return real(card, logs, policy)

    monkeypatch.setattr(importer_history, "replay_card_logs", failing)
    with pytest.raises(
        ApkgImportError, match=r"card “.+” \(card \d, Anki card \d+\): replay broke"
    ):
        import_file(export_apkg(col, tmp_path / "a.apkg", legacy=False), user)
    assert failing_pk
    assert counts() == dict.fromkeys(counts(), 0)
