"""Notes for cards written in bulk (imports, deck copies, backups): bulk_create runs no
Card.save, so these give each new card its Basic note, and carry edits of a Basic card's text
to its note, a batch at a time."""

from cards.models import Card, Note, NoteKind, NoteType

# What makes two note types the same (their anki_id aside).
NOTE_TYPE_CONTENT = ("name", "is_cloze", "field_names", "templates", "css")


def with_basic_notes(deck, cards: list[Card]) -> list[Card]:
    """Give cards without a note a Basic note each (Front = question, Back = answer, the
    card's tags), created in one statement; returns the cards for bulk_create."""
    bare = [card for card in cards if card.note_id is None]
    notes = Note.objects.bulk_create(
        Note(
            deck_id=card.deck_id or deck.pk,
            kind=NoteKind.BASIC,
            fields={"Front": card.question, "Back": card.answer},
            tags=card.tags,
        )
        for card in bare
    )
    for card, note in zip(bare, notes, strict=True):
        card.note, card.ord = note, 0
    return cards


def sync_basic_notes(cards: list[Card]) -> int:
    """Write updated cards' question/answer/tags to their Basic notes; cards of other kinds of
    note are left to services/notes.py. Returns the number of notes written."""
    by_note = {card.note_id: card for card in cards if card.note_id is not None}
    notes = list(Note.objects.filter(pk__in=by_note, kind=NoteKind.BASIC).only("pk"))
    for note in notes:
        card = by_note[note.pk]
        note.fields = {"Front": card.question, "Back": card.answer}
        note.tags = card.tags
    Note.objects.bulk_update(notes, ["fields", "tags"], batch_size=500)
    bare = [card for card in cards if card.note_id is None]
    if bare:
        with_basic_notes(None, bare)
        Card.objects.bulk_update(bare, ["note", "ord"], batch_size=500)
    return len(notes)


def delete_orphan_notes(note_ids) -> int:
    """Notes left without a card (their last card deleted) go too."""
    ids = {pk for pk in note_ids if pk is not None}
    if not ids:
        return 0
    return Note.objects.filter(pk__in=ids, cards__isnull=True).delete()[0]


def copy_notes(sources: list[Card], copies: list[Card], deck, mapping: dict, rewrite=None):
    """Give copied cards (not yet saved) copies of their sources' notes in `deck`: siblings
    share one copied note, also across batches (`mapping`: source note id -> copy's id); a
    source without a note gives its copy a Basic note. An Anki note's copy uses the deck
    owner's own copy of its note type (own_note_types). Two queries to read, one to write.
    `rewrite(text, old_deck_id, new_deck_id)` adjusts the fields' text (image URLs)."""
    wanted = {c.note_id for c in sources if c.note_id is not None} - mapping.keys()
    originals = list(Note.objects.filter(pk__in=wanted).select_related("note_type").order_by("pk"))
    used = list({n.note_type_id: n.note_type for n in originals if n.note_type_id}.values())
    owned = dict(zip([nt.pk for nt in used], own_note_types(deck.owner_id, used)[0], strict=True))

    def fields_of(note):
        if rewrite is None:
            return dict(note.fields)
        return {k: rewrite(v, note.deck_id, deck.pk) for k, v in note.fields.items()}

    made = [
        Note(deck=deck, kind=n.kind, note_type=owned.get(n.note_type_id), fields=fields_of(n),
             tags=n.tags, guid=n.guid)
        for n in originals
    ]  # fmt: skip
    bare = [copy for source, copy in zip(sources, copies, strict=True) if source.note_id is None]
    made += [
        Note(deck=deck, kind=NoteKind.BASIC, tags=c.tags,
             fields={"Front": c.question, "Back": c.answer})
        for c in bare
    ]  # fmt: skip
    Note.objects.bulk_create(made)
    mapping.update({n.pk: m.pk for n, m in zip(originals, made, strict=False)})
    for source, copy in zip(sources, copies, strict=True):
        if source.note_id is not None:
            copy.note_id, copy.ord = mapping[source.note_id], source.ord
    for copy, note in zip(bare, made[len(originals) :], strict=True):
        copy.note, copy.ord = note, 0
    return copies


def own_note_types(owner_id, note_types: list[NoteType]) -> tuple[list[NoteType], list[int]]:
    """For each note type (saved, or planned by an import), the one `owner_id` uses: itself
    if it is theirs; else one of theirs with the same content; else a new copy of it for them,
    with its anki_id unless they have a note type of that id already (the key a package
    re-import upserts by). Note types are per owner, so that a re-import by one owner never
    changes another's cards. Returns them in order, and the ids created."""
    foreign = [nt for nt in note_types if nt.pk is None or nt.owner_id != owner_id]
    if not foreign:
        return list(note_types), []
    theirs = list(NoteType.objects.filter(owner_id=owner_id,
                                          name__in={nt.name for nt in foreign}))  # fmt: skip
    ids = {nt.anki_id for nt in foreign} - {None}
    mine = NoteType.objects.filter(owner_id=owner_id, anki_id__in=ids)
    taken = set(mine.values_list("anki_id", flat=True))
    result, created = [], []
    for note_type in note_types:
        if note_type.pk is not None and note_type.owner_id == owner_id:
            result.append(note_type)
            continue
        same = [t for t in theirs if _same_content(t, note_type)]
        # The one from the same Anki note type first.
        same.sort(key=lambda t: t.anki_id != note_type.anki_id)
        if same:
            result.append(same[0])
            continue
        values = {name: getattr(note_type, name) for name in NOTE_TYPE_CONTENT}
        anki_id = None if note_type.anki_id in taken else note_type.anki_id
        row = NoteType.objects.create(owner_id=owner_id, anki_id=anki_id, **values)
        taken.add(anki_id)
        theirs.append(row)
        created.append(row.pk)
        result.append(row)
    return result, created


def _same_content(a: NoteType, b: NoteType) -> bool:
    return all(getattr(a, name) == getattr(b, name) for name in NOTE_TYPE_CONTENT)


# Which field a Basic-family card's question and answer are, by ord (services/notes.py).
_SIDES = {0: ("Front", "Back"), 1: ("Back", "Front")}
_KEPT_FIELDS = ["position", "imported_question", "imported_answer", "updated_at"]


def update_note_cards(cards: list[Card]) -> list[Card]:
    """Re-imported cards (a seed or plain CSV row matched a card) whose note is reversed or
    cloze: their new text goes to the note and the note's cards are regenerated with their
    history (services/notes.update_note), rather than the card being written alone. A cloze
    card's readable text cannot be turned back into the note's Text, so it keeps it (the note
    takes its tags), and so does a card of an Anki note type (its text is its template
    rendered). Returns the cards left for the caller's plain bulk update."""
    from cards.services.notes import update_note

    ids = {card.note_id for card in cards if card.note_id is not None}
    notes = Note.objects.filter(pk__in=ids).exclude(kind=NoteKind.BASIC).in_bulk() if ids else {}
    plain = [card for card in cards if card.note_id not in notes]
    through = [card for card in cards if card.note_id in notes]
    if through:
        Card.objects.bulk_update(through, _KEPT_FIELDS)
    for card in through:
        note = notes[card.note_id]
        fields = dict(note.fields)
        if note.kind not in (NoteKind.CLOZE, NoteKind.ANKI):
            q_field, a_field = _SIDES.get(card.ord, _SIDES[0])
            fields.update({q_field: card.question, a_field: card.answer})
        update_note(note, fields, tags=card.tags)
    return plain


def sync_note_tags(card_ids) -> int:
    """After a bulk action changed the tags of these cards: their notes take the changed
    cards' tags, and the notes' other cards follow (tags are per note, as in Anki). When a
    note's changed cards disagree, its lowest-ord changed card wins. Cards without a note
    are left alone. Returns the number of notes written; a fixed number of queries."""
    changed = {}
    rows = Card.objects.filter(pk__in=list(card_ids), note__isnull=False)
    for note_id, tags in rows.order_by("note_id", "-ord").values_list("note_id", "tags"):
        changed[note_id] = tags  # the lowest ord comes last
    if not changed:
        return 0
    notes = [note for note in Note.objects.filter(pk__in=changed).only("pk", "tags")
             if note.tags != changed[note.pk]]  # fmt: skip
    for note in notes:
        note.tags = changed[note.pk]
    Note.objects.bulk_update(notes, ["tags"], batch_size=500)
    siblings = [card for card in Card.objects.filter(note_id__in=changed).only("pk", "note_id",
                "tags") if card.tags != changed[card.note_id]]  # fmt: skip
    for card in siblings:
        card.tags = changed[card.note_id]
    if siblings:
        Card.objects.bulk_update(siblings, ["tags"], batch_size=500)
    return len(notes)
