"""Write an Anki collection (package.py's AnkiCollection) into Studyapp: decks, notes, cards,
media images, then (importer_history.py) review history, memory states and marks.

- Note types: Anki's stock shapes map to our kinds (cloze Text/Back Extra → Cloze; Front/Back
  with one template → Basic, two → Basic and reversed; Front/Back/Add Reverse → optional
  reversed); any other becomes a NoteType row (upserted by owner and Anki id) whose templates
  make the cards (kind "anki", cards/anki/templates.py).
- Decks: one per Anki deck that holds cards, named with its full "A::B" path; a card in a
  filtered deck goes to its home deck (filtered decks are not made).
- Fields: the stock kinds hold Markdown (cards/anki/fields.py converts Anki's HTML; a card keeps
  the text as imported when that changed it); kind "anki" keeps Anki's HTML. Images are checked
  and stored per deck (services/media.py) and <img src> points at our URL; sound and video are
  counted and listed as skipped.
- Idempotent: notes are matched by Anki's GUID within the decks the package maps to, cards by
  (note, ord), reviews by their token "anki:<card id>:<revlog id>": importing again updates
  what changed and adds only what is new.
- All or nothing: batches of short transactions (settings.IMPORT_BATCH_CARDS notes each), so
  other users' writes never wait long on SQLite; if anything fails, everything this import
  created is removed again and ApkgImportError names the note or card that failed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cards.anki import fields as anki_fields
from cards.anki.collection import AnkiCard, AnkiCollection, AnkiNote
from cards.anki.importer_history import import_history
from cards.anki.importer_records import (
    ApkgImportError,
    ApkgSummary,
    CardInfo,
    Created,
    Progress,
    kind_of,
    undo,
)
from cards.importers.errors import ImportFileError
from cards.limits import LimitError, check_package_limits
from cards.models import Card, Deck, MediaFile, Note, NoteKind, NoteType
from cards.services.media import MediaError, _store, check_image, media_url
from cards.services.media_transfer import check_quota
from cards.services.notes import GeneratedCard, NoteError, generate, generate_anki
from cards.services.user_data import TransferError

# A note's fields are converted for the note and again, unrewritten, for each card's "as
# imported" check: the same text each time.
_to_markdown = lru_cache(maxsize=1024)(anki_fields.to_markdown)
IMAGE_EXTENSIONS = {"png", "jpg", "jpeg", "gif", "webp"}
TAGS_MAX = Card._meta.get_field("tags").max_length
DECK_NAME_MAX = Deck._meta.get_field("name").max_length


def import_package(
    collection: AnkiCollection,
    user,
    *,
    site: bool = False,
    public: bool = False,
    progress: Progress | None = None,
    started: Callable[[ApkgSummary], None] | None = None,
    now: datetime | None = None,
) -> ApkgSummary:
    """Import `collection` for `user`: into the user's own decks, or (`site`, staff) into site
    decks without an owner; `public` makes the decks public. `started(summary)` hears before
    the first batch, `progress(done, total)` after each (cards, then reviews); either may raise
    to stop the import. The reviews, memory states and marks are the user's own."""
    now = now or timezone.now()
    summary = ApkgSummary()
    created = Created()
    importer = _ContentImporter(collection, user, None if site else user, public, summary, now)
    total = collection.card_count + collection.review_count
    try:
        importer.check_limits()
    except LimitError as exc:  # before anything is written: nothing to undo
        raise ApkgImportError(str(exc)) from None
    try:
        importer.prepare(created)
        if started:
            started(summary)
        cards = importer.write(created, progress, total)
        import_history(collection, user, cards, summary, created, now, progress, total)
    except BaseException as exc:
        undo(created, user)
        if not isinstance(exc, Exception):
            raise
        reason = str(exc) or type(exc).__name__
        raise ApkgImportError(
            f"the import stopped ({reason}); everything it had added was removed again"
        ) from exc
    summary.decks = sorted({d.pk: d for d in importer.decks.values()}.values(), key=str)
    return summary


class _ContentImporter:
    def __init__(self, collection, user, owner, public, summary, now):
        self.col, self.user, self.owner, self.public = collection, user, owner, public
        self.summary, self.now = summary, now
        self.decks: dict[int, Deck] = {}  # Anki deck id -> ours
        self.kinds: dict[int, str] = {}  # Anki note type id -> our kind
        self.note_types: dict[int, NoteType] = {}
        self.images: dict[str, object] = {}  # name -> CheckedImage
        self.urls: dict[tuple[int, str], str] = {}  # (deck pk, name) -> our URL
        self.notes_by_guid: dict[str, Note] = {}
        self.cards_by_key: dict[tuple[int, int], Card] = {}

    # -- before the batches ---------------------------------------------------------------

    def prepare(self, created: Created) -> None:
        for notetype in self.col.notetypes.values():
            self.kinds[notetype.id] = kind_of(notetype)
        self._note_types(created)
        self._media()
        names = {d.name[:DECK_NAME_MAX] for d in self.col.decks.values() if not d.is_filtered}
        existing = Deck.objects.filter(owner=self.owner, name__in=names)
        by_name = {deck.name: deck for deck in existing}
        for deck in self.col.decks.values():
            if deck.name[:DECK_NAME_MAX] in by_name:
                self.decks[deck.id] = by_name[deck.name[:DECK_NAME_MAX]]
        if by_name:
            ids = [deck.pk for deck in by_name.values()]
            notes = Note.objects.filter(deck_id__in=ids).exclude(guid="")
            self.notes_by_guid = {note.guid: note for note in notes}
            cards = Card.objects.filter(note__deck_id__in=ids).exclude(note__guid="")
            self.cards_by_key = {(c.note_id, c.ord): c for c in cards}

    def check_limits(self) -> None:
        """APKG_MAX_CARDS, USER_MAX_DECKS and DECK_MAX_CARDS (LimitError), before any write."""
        per_deck = Counter(card.deck_id for card in self.col.cards())
        by_name: Counter = Counter()
        for deck_id, n in per_deck.items():
            by_name[self._deck_name(deck_id)] += n
        check_package_limits(self.owner, by_name)

    def _deck_name(self, anki_deck_id: int) -> str:
        """Our deck's name for a card's home deck in the package (its full A::B path)."""
        source = self.col.decks.get(anki_deck_id)
        return (source.name if source and not source.is_filtered else "Default")[:DECK_NAME_MAX]

    def _note_types(self, created: Created) -> None:
        custom = [nt for nt in self.col.notetypes.values() if self.kinds[nt.id] == NoteKind.ANKI]
        if not custom:
            return
        found = NoteType.objects.filter(owner=self.owner, anki_id__in=[nt.id for nt in custom])
        existing = {row.anki_id: row for row in found}
        for notetype in custom:
            values = {
                "name": notetype.name[:200],
                "is_cloze": notetype.is_cloze,
                "field_names": list(notetype.fields),
                "templates": [
                    {"name": t.name, "front": t.front, "back": t.back} for t in notetype.templates
                ],
                "css": notetype.css,
            }
            row = existing.get(notetype.id)
            if row is None:
                row = NoteType.objects.create(owner=self.owner, anki_id=notetype.id, **values)
                created.note_types.append(row.pk)
            elif any(getattr(row, k) != v for k, v in values.items()):
                for key, value in values.items():
                    setattr(row, key, value)
                row.save()
            self.note_types[notetype.id] = row
            self.summary.note_types += 1

    def _media(self) -> None:
        for item in self.col.media:
            extension = item.name.rsplit(".", 1)[-1].lower() if "." in item.name else ""
            if extension not in IMAGE_EXTENSIONS:
                self.summary.media_skipped.append(item.name)
                continue
            try:
                self.images[item.name] = check_image(self.col.media_bytes(item.name), item.name)
            except MediaError as exc:
                self.summary.media_skipped.append(item.name)
                self.summary.warn(f"image skipped: {exc}")
        try:
            check_quota(self.user, self.images)
        except TransferError as exc:
            raise ImportFileError(f"the package's images: {exc}") from None

    def _deck(self, anki_deck_id: int, created: Created) -> Deck:
        deck = self.decks.get(anki_deck_id)
        if deck is not None:
            return deck
        name = self._deck_name(anki_deck_id)
        deck = next((d for d in self.decks.values() if d.name == name), None)
        if deck is None:
            deck = Deck.objects.create(owner=self.owner, name=name, is_public=self.public)
            created.decks.append(deck)
            self.summary.decks_created += 1
        self.decks[anki_deck_id] = deck
        return deck

    def _url(self, deck: Deck, name: str, created: Created) -> str | None:
        key = (deck.pk, name)
        if key not in self.urls:
            checked = self.images.get(name)
            if checked is None:
                return None
            row = MediaFile.objects.filter(deck=deck, sha256=checked.sha256).first()
            if row is None:
                row = _store(deck, self.user, checked, name)
                created.media.append(row.pk)
                self.summary.images += 1
            self.urls[key] = media_url(row)
        return self.urls[key]

    # -- the batches ----------------------------------------------------------------------

    def write(self, created: Created, progress, total: int) -> dict[int, CardInfo]:
        """Notes and cards, batch by batch; returns the imported cards by Anki card id."""
        infos: dict[int, CardInfo] = {}
        size = settings.IMPORT_BATCH_CARDS
        batch: list[tuple[AnkiNote, list[AnkiCard]]] = []
        done = 0
        for note, cards in _notes_with_cards(self.col):
            batch.append((note, cards))
            if len(batch) >= size:
                done += self._batch(batch, created, infos)
                batch = []
                if progress:
                    progress(done, total)
        if batch:
            done += self._batch(batch, created, infos)
            if progress:
                progress(done, total)
        return infos

    def _batch(self, batch, created: Created, infos: dict[int, CardInfo]) -> int:
        new_notes, changed_notes, plans = [], [], []
        for note, cards in batch:
            if not cards:
                continue
            try:
                plan = self._plan(note, cards, created)
            except NoteError as exc:
                # Fields our kind cannot make its cards from (a Front that is only markup):
                # listed in the summary; the rest of the package imports.
                self.summary.cards_skipped.append(f"note {_name(note)}, {len(cards)} cards: {exc}")
                continue
            except Exception as exc:
                raise ApkgImportError(f"note {_name(note)}: {exc}") from exc
            if not plan.cards and plan.note.pk is None:
                del self.notes_by_guid[plan.note.guid]
                continue
            plans.append(plan)
            if plan.note.pk is None:
                new_notes.append(plan.note)
            elif plan.changed:
                changed_notes.append(plan.note)
        with transaction.atomic():
            Note.objects.bulk_create(new_notes)
            created.notes += [n.pk for n in new_notes]
            if changed_notes:
                Note.objects.bulk_update(changed_notes, ["fields", "tags", "kind", "note_type",
                                                         "updated_at"])  # fmt: skip
            new_cards, changed_cards = [], []
            for plan in plans:
                for card in plan.cards:
                    card.note_id = plan.note.pk
                    if card.pk is None:
                        new_cards.append(card)
                    elif getattr(card, "_changed", False):
                        changed_cards.append(card)
            Card.objects.bulk_create(new_cards)
            created.cards += [c.pk for c in new_cards]
            if changed_cards:
                Card.objects.bulk_update(changed_cards, CARD_UPDATE)
        for plan in plans:
            for card, anki in zip(plan.cards, plan.anki_cards, strict=True):
                infos[anki.id] = CardInfo(
                    card.pk, card.deck_id, anki, _label(card, anki), card.is_studyable
                )
        self.summary.notes_created += len(new_notes)
        self.summary.notes_updated += len(changed_notes)
        self.summary.notes_unchanged += len(plans) - len(new_notes) - len(changed_notes)
        self.summary.cards_created += len(new_cards)
        self.summary.cards_updated += len(changed_cards)
        return sum(len(cards) for _, cards in batch)

    def _plan(self, anki_note: AnkiNote, anki_cards: list[AnkiCard], created) -> _Plan:
        notetype = self.col.notetypes.get(anki_note.notetype_id)
        if notetype is None:
            raise ValueError(f"its note type {anki_note.notetype_id} is not in the package")
        kind = self.kinds[notetype.id]
        deck = self._deck(anki_cards[0].deck_id, created)
        raw = dict(zip(notetype.fields, anki_note.fields, strict=False))
        for name in notetype.fields:
            raw.setdefault(name, "")
        html = {k: anki_fields.rewrite_media(v, lambda n: self._url(deck, n, created))
                for k, v in raw.items()}  # fmt: skip
        tags = _tags(anki_note.tags, self.summary)
        note_type = self.note_types.get(notetype.id)
        if kind == NoteKind.ANKI:
            fields = {k: v.strip() for k, v in html.items()}
            ords = [c.ord for c in anki_cards]
            generated = generate_anki(note_type, fields, tags=tags, deck=deck.name, ords=ords)
        else:
            fields = {k: _to_markdown(v) for k, v in html.items()}
            if kind == NoteKind.OPTIONAL_REVERSED:
                fields["Add Reverse"] = "y" if fields["Add Reverse"].strip() else ""
            generated = generate(kind, fields)
        note = self.notes_by_guid.get(anki_note.guid)
        changed = False
        if note is None:
            note = Note(deck=deck, kind=kind, note_type=note_type, fields=fields, tags=tags,
                        guid=anki_note.guid[:64])  # fmt: skip
            self.notes_by_guid[note.guid] = note
        elif (note.fields, note.tags, note.kind, note.note_type_id) != (
            fields,
            tags,
            kind,
            note_type.pk if note_type else None,
        ):
            note.fields, note.tags, note.kind, note.note_type = fields, tags, kind, note_type
            note.updated_at, changed = self.now, True
        cards, used = [], []
        for anki in anki_cards:
            gen = generated.get(anki.ord)
            if gen is None:
                self.summary.cards_skipped.append(
                    f"card {anki.ord + 1} of note {_name(anki_note)}: its fields make no such card"
                )
                continue
            card_deck = self._deck(anki.deck_id, created)
            card = self._card(note, anki, gen, card_deck, tags, raw, notetype, kind)
            cards.append(card)
            used.append(anki)
        return _Plan(note, changed, cards, used)

    def _card(self, note, anki, gen: GeneratedCard, deck, tags, raw, notetype, kind) -> Card:
        imported_q, imported_a = _imported(kind, raw, anki.ord)
        values = {
            "deck_id": deck.pk,
            "question": gen.question,
            "answer": gen.answer,
            "question_html": gen.question_html,
            "answer_html": gen.answer_html,
            "tags": tags,
            "imported_question": imported_q,
            "imported_answer": imported_a,
        }
        card = self.cards_by_key.get((note.pk, anki.ord)) if note.pk else None
        if card is None:
            position = anki.due if anki.type == 0 and 0 <= anki.due < 2**31 else 0
            return Card(note=note, ord=anki.ord, position=position, **values)
        differ = [k for k, v in values.items() if getattr(card, k) != v]
        for key in differ:
            setattr(card, key, values[key])
        if differ:
            card.updated_at = self.now
            card._changed = True
        return card


CARD_UPDATE = ["deck", "question", "answer", "question_html", "answer_html", "tags",
               "imported_question", "imported_answer", "updated_at"]  # fmt: skip
# Which Anki fields a stock kind's card sides come from, by ord.
_SIDE_FIELDS = {0: ("Front", "Back"), 1: ("Back", "Front")}


@dataclass
class _Plan:
    note: Note
    changed: bool
    cards: list[Card]
    anki_cards: list[AnkiCard]


def _imported(kind: str, raw: dict[str, str], ord_: int) -> tuple[str, str]:
    """The fields as Anki had them, for a card whose text the Markdown conversion changed."""
    if kind == NoteKind.ANKI:
        return "", ""
    if kind == NoteKind.CLOZE:
        q, a = raw.get("Text", ""), raw.get("Back Extra", "")
    else:
        q_name, a_name = _SIDE_FIELDS.get(ord_, _SIDE_FIELDS[0])
        q, a = raw.get(q_name, ""), raw.get(a_name, "")
    q_changed = _to_markdown(q) != q.strip()
    a_changed = _to_markdown(a) != a.strip()
    return (q if q_changed else ""), (a if a_changed else "")


def _tags(tags: list[str], summary: ApkgSummary) -> str:
    text = " ".join(t for t in tags if t)
    if len(text) > TAGS_MAX:
        text = text[:TAGS_MAX].rsplit(" ", 1)[0]
        summary.warn(f"tags cut to {TAGS_MAX} characters on some notes")
    return text


def _name(note: AnkiNote) -> str:
    first = anki_fields.SOUND.sub("", note.fields[0] if note.fields else "")
    text = " ".join(first.split())[:40]
    return f"“{text}” (Anki note {note.id})"


def _label(card: Card, anki: AnkiCard) -> str:
    text = " ".join(card.question.split())[:40]
    return f"“{text}” (card {anki.ord + 1}, Anki card {anki.id})"


def _notes_with_cards(col: AnkiCollection):
    """Each note with its cards: both streams come in note id order."""
    cards = iter(col.cards())
    pending = next(cards, None)
    for note in col.notes():
        mine = []
        while pending is not None and pending.note_id < note.id:
            pending = next(cards, None)  # a card without its note: nothing to make it from
        while pending is not None and pending.note_id == note.id:
            mine.append(pending)
            pending = next(cards, None)
        yield note, mine
