"""Importing the "all my data" JSON file (exported by cards/services/transfer.py): every row
is built and checked first (cards/services/user_data.py), then written in short transactions,
and removed again if a write fails, so that nothing is half-written."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from cards.limits import LimitError, check_limits
from cards.models import Card, Deck, MemoryState, NoteType, ReviewLog, StudySettings
from cards.services.deletion import delete_deck, delete_in_batches
from cards.services.note_transfer import (
    attach_note,
    plan_note_types,
    plan_notes,
    save_note_types,
    save_planned_notes,
)
from cards.services.settings import policy_for
from cards.services.user_data import (
    CARD_FIELDS,
    CARD_OPTIONAL_FIELDS,
    DECK_FIELDS,
    LOG_FIELDS,
    SETTINGS_FIELDS,
    SHARED_FIELDS,
    STATE_FIELDS,
    STATE_OPTIONAL_FIELDS,
    Problems,
    TransferError,
    check_instance,
    typed_fields,
)

# Rows written per transaction once the whole file has passed its checks.
WRITE_BATCH = 500


def free_deck_name(owner, name: str, suffix: str, taken: set[str] | None = None) -> str:
    """`name`, or `name (suffix)`, `name (suffix 2)`… whichever this owner does not use yet
    (nor is in `taken`, the names an import is about to use)."""
    taken = set(Deck.objects.filter(owner=owner).values_list("name", flat=True)) | (taken or set())
    if name not in taken:
        return name
    for n in range(1, 10_000):
        label = suffix if n == 1 else f"{suffix} {n}"
        candidate = f"{name[: 200 - len(label) - 3]} ({label})"
        if candidate not in taken:
            return candidate
    raise TransferError(f"too many decks named {name!r}")


@dataclass
class ImportSummary:
    decks: int = 0
    cards: int = 0
    states: int = 0
    logs: int = 0
    settings: bool = False
    skipped_logs: int = 0
    renamed: list[str] = field(default_factory=list)

    def message(self) -> str:
        text = (
            f"Imported {self.decks} decks, {self.cards} cards, {self.logs} reviews and "
            f"{self.states} card schedules"
        )
        text += ", and your settings." if self.settings else "."
        if self.renamed:
            text += f" Renamed to avoid a clash: {', '.join(self.renamed)}."
        if self.skipped_logs:
            text += (
                f" Left out {self.skipped_logs} reviews of shared cards that are not on this "
                "site or that you already study here."
            )
        return text


@dataclass
class _Plan:
    """Every row of a checked file, built and validated, ready to write."""

    settings: StudySettings | None = None
    note_types: list[NoteType] = field(default_factory=list)
    decks: list[tuple[Deck, list[Card]]] = field(default_factory=list)
    states: list[MemoryState] = field(default_factory=list)
    logs: list[ReviewLog] = field(default_factory=list)
    summary: ImportSummary = field(default_factory=ImportSummary)

    @property
    def rows(self) -> int:
        """Rows to write: each deck and its cards, the schedules, the reviews, the settings."""
        decks = sum(1 + len(cards) for _, cards in self.decks)
        return decks + len(self.states) + len(self.logs) + (self.settings is not None)


def import_user_data(
    user, payload: dict, progress: Callable[[int, int], None] | None = None
) -> ImportSummary:
    """Add the file's decks, schedules, history and settings to `user`'s account, all or
    nothing. Every row is checked first (TransferError lists what is wrong and where); then
    the rows are written in short transactions of WRITE_BATCH rows, `progress(done, total)`
    after each. Decks whose names the account already uses get " (imported)" added."""
    plan = _plan(user, payload)
    _write(user, plan, progress or (lambda done, total: None))
    return plan.summary


def check_user_data(user, payload: dict) -> int:
    """Check a parsed file exactly as import_user_data does, writing nothing (TransferError
    names what is wrong); returns the number of rows the import would write."""
    return _plan(user, payload).rows


def _plan(user, payload: dict) -> _Plan:
    plan, problems = _Plan(), Problems()
    if payload.get("settings") is not None:
        plan.settings = _plan_settings(user, payload["settings"], problems)
    plan.note_types = plan_note_types(
        user, payload.get("note_types"), problems, typed_fields, check_instance
    )
    cards = _plan_decks(user, payload["decks"], plan, problems)
    cards.update(_resolve_shared(user, payload["shared_cards"], problems))
    shared_ids = [card.pk for card in cards.values() if card is not None and card.pk]
    studied = set(
        MemoryState.objects.filter(user=user, card_id__in=shared_ids).values_list(
            "card_id", flat=True
        )
    )
    scheduled: dict[str, int] = {}
    for i, row in enumerate(payload["memory_states"]):
        where = f"memory_states[{i}]"
        ref = _ref(cards, row, where, problems)
        if ref is not None and ref in scheduled:
            problems.add(f"{where}.card", f"{ref!r} already has a schedule at "
                         f"memory_states[{scheduled[ref]}]")  # fmt: skip
        if ref is not None:
            scheduled.setdefault(ref, i)
        fields = typed_fields(row, STATE_FIELDS, where, problems)
        marks = typed_fields(row, STATE_OPTIONAL_FIELDS, where, problems, optional=True)
        if fields is None or marks is None:
            continue
        fields |= marks
        card = cards.get(ref)
        state = MemoryState.of(user, card, **fields) if card else MemoryState(user=user, **fields)
        check_instance(state, where, problems, exclude=["user", "card", "deck", "studyable"])
        if card is not None and card.pk not in studied:
            state.deck = card.deck  # the deck may not be saved yet: its id is set on write
            plan.states.append(state)
    for i, row in enumerate(payload["review_logs"]):
        where = f"review_logs[{i}]"
        ref = _ref(cards, row, where, problems)
        fields = typed_fields(row, LOG_FIELDS, where, problems)
        # Optional (files from before it existed): the seed keeps the replay's intervals
        # when the cards get new ids here.
        given = isinstance(row, dict) and row.get("fuzz_seed") is not None
        seed = typed_fields(row, {"fuzz_seed": str}, where, problems) if given else {}
        if fields is None or seed is None:
            continue
        log = ReviewLog(user=user, fuzz_seed=seed.get("fuzz_seed") or "", **fields)
        check_instance(log, where, problems, exclude=["user", "card", "deck"])
        card = cards.get(ref)
        if card is None or card.pk in studied:
            plan.summary.skipped_logs += 1
            continue
        log.card, log.deck = card, card.deck
        plan.logs.append(log)
    problems.raise_if_any()
    try:
        check_limits(
            user,
            new_decks=len(plan.decks),
            new_cards_by_deck={
                f"decks[{d}]": len(cards) for d, (_, cards) in enumerate(plan.decks)
            },
            import_cards=plan.summary.cards,
        )
    except LimitError as exc:
        raise TransferError(str(exc)) from None
    plan.summary.states, plan.summary.logs = len(plan.states), len(plan.logs)
    return plan


def _plan_settings(user, data, problems: Problems) -> StudySettings | None:
    fields = typed_fields(data, SETTINGS_FIELDS, "settings", problems, optional=True)
    if fields is None:
        return None
    settings = StudySettings.objects.filter(user=user).first() or StudySettings(user=user)
    for name, value in fields.items():
        setattr(settings, name, value)
    if check_instance(settings, "settings", problems, exclude=["user"]):
        try:
            policy_for(settings)  # last guard: the scheduler must accept the combination
        except ValueError as exc:
            problems.add("settings", f"these settings do not work together: {exc}")
    return settings


def _plan_decks(user, decks, plan: _Plan, problems: Problems) -> dict[str, Card]:
    cards: dict[str, Card] = {}
    taken: set[str] = set()
    for d, data in enumerate(decks):
        where = f"decks[{d}]"
        fields = typed_fields(data, DECK_FIELDS, where, problems)
        if fields is None:
            continue
        name = fields["name"].strip()[:200]
        if not name:
            problems.add(f"{where}.name", "the deck has no name")
        deck = Deck(
            owner=user,
            name=name,
            description=fields["description"],
            is_public=fields["is_public"] and user.is_staff,
        )
        if check_instance(deck, where, problems, exclude=["owner"]) and name:
            deck.name = free_deck_name(user, name, "imported", taken)
            taken.add(deck.name)
            if deck.name != name:
                plan.summary.renamed.append(deck.name)
        notes = plan_notes(data, where, problems, typed_fields, plan.note_types, deck.name)
        taken_ords = set()
        new = []
        for c, row in enumerate(fields["cards"]):
            place = f"{where}.cards[{c}]"
            card_fields = typed_fields(row, CARD_FIELDS, place, problems)
            kept = typed_fields(row, CARD_OPTIONAL_FIELDS, place, problems, optional=True)
            if card_fields is None or kept is None:
                continue
            card = Card(deck=deck, **card_fields, **kept)
            if not card.question.strip():
                problems.add(f"{place}.question", "the question is empty")
            elif _no_nul(card, kept, place, problems) and check_instance(
                card, place, problems, exclude=["deck"]
            ):
                card.render()
                attach_note(card, row, notes, place, problems, typed_fields, taken_ords)
            new.append(card)
            cards[f"d{d}.c{c}"] = card
        ids = [card.external_id for card in new if card.external_id]
        if len(ids) != len(set(ids)):
            problems.add(f"{where}.cards", "two cards share an external_id")
        plan.decks.append((deck, new))
        plan.summary.decks += 1
        plan.summary.cards += len(new)
    return cards


def _no_nul(card: Card, names, where: str, problems: Problems) -> bool:
    """The text as imported has no validators of its own; PostgreSQL refuses NUL in text."""
    bad = [name for name in names if "\x00" in getattr(card, name)]
    for name in bad:
        problems.add(f"{where}.{name}", "must not contain NUL characters")
    return not bad


def _resolve_shared(user, shared, problems: Problems) -> dict[str, Card | None]:
    """Cards of other people's decks, found by id (same site) or by deck name and question."""
    visible = Deck.objects.visible_to(user)
    wanted = {}
    for i, row in enumerate(shared):
        where = f"shared_cards[{i}]"
        fields = typed_fields(row, SHARED_FIELDS, where, problems)
        if fields is None:
            continue
        if "\x00" in fields["deck"] + fields["question"]:
            problems.add(where, "must not contain NUL characters")  # PostgreSQL cannot compare
            continue
        wanted[f"s{i}"] = (fields["id"], fields["deck"], fields["question"])
    if problems.items:
        return dict.fromkeys(wanted)
    by_id = Card.objects.filter(
        deck__in=visible, pk__in=[w[0] for w in wanted.values() if w[0] is not None]
    ).select_related("deck")
    by_id = {card.pk: card for card in by_id}
    found = {}
    for ref, (card_id, deck_name, question) in wanted.items():
        card = by_id.get(card_id)
        if card is None or card.question != question:
            card = (
                Card.objects.filter(deck__in=visible, deck__name=deck_name, question=question)
                .exclude(deck__owner=user)
                .select_related("deck")
                .first()
            )
        found[ref] = card
    return found


def _ref(cards, row, where, problems: Problems) -> str | None:
    fields = typed_fields(row, {"card": str}, where, problems)
    if fields is None:
        return None
    if fields["card"] not in cards:
        problems.add(f"{where}.card", f"{fields['card'][:40]!r} names no card in this file")
        return None
    return fields["card"]


def _batches(rows: list):
    for start in range(0, len(rows), WRITE_BATCH):
        yield rows[start : start + WRITE_BATCH]


def _write(user, plan: _Plan, progress: Callable[[int, int], None]) -> None:
    """Write a checked plan in short transactions. If a write fails, what this import wrote
    is deleted again (its decks cascade to their cards, states and logs) before re-raising."""
    total, done = plan.rows, 0
    decks, states, logs, note_types = [], [], [], []
    try:
        with transaction.atomic():
            note_types = save_note_types(user, _used_note_types(plan))
        for deck, cards in plan.decks:
            deck.save()
            decks.append(deck.pk)
            done += 1
            for batch in _batches(cards):
                with transaction.atomic():
                    save_planned_notes(deck, batch)
                    Card.objects.bulk_create(batch)
                done += len(batch)
                progress(done, total)
        for rows, model, written in (
            (plan.states, MemoryState, states),
            (plan.logs, ReviewLog, logs),
        ):
            for batch in _batches(rows):
                with transaction.atomic():
                    model.objects.bulk_create(batch)
                written.extend(row.pk for row in batch)
                done += len(batch)
                progress(done, total)
        if plan.settings is not None:
            plan.settings.save()
            progress(done + 1, total)
    except BaseException:
        # Undone in short transactions as well, and only this import's own rows.
        delete_in_batches(ReviewLog.objects.filter(pk__in=logs))
        delete_in_batches(MemoryState.objects.filter(pk__in=states))
        for deck in Deck.objects.filter(pk__in=decks):
            delete_deck(deck)
        NoteType.objects.filter(pk__in=note_types, notes__isnull=True).delete()
        raise


def _used_note_types(plan: _Plan) -> list[NoteType]:
    """The planned note types that a card's note uses, once each in file order: a note type
    no card needs is not saved."""
    used = {
        id(card.note.note_type)
        for _, cards in plan.decks
        for card in cards
        if "note" in card._state.fields_cache and card.note.note_type is not None
    }
    return [note_type for note_type in plan.note_types if id(note_type) in used]
