"""Delete cards so that Undo can put them back exactly, as Anki's undo of Delete Note puts
back the notes and cards with their ids, schedule, flags and suspension (the oracle test in
tests/search/test_card_trash.py).

Delete reads, in one transaction, every row that goes with the cards — the cards, the notes
left without a card, and every learner's memory states (their schedule and marks), review logs
and undo records of those cards — keeps them as they are (services/row_tables) in one
CardTrash row, then deletes them. Undo inserts the same rows back with the same ids, in one
transaction, or refuses with a message and changes nothing: the deck was deleted since, an id
was taken meanwhile, a note the cards still shared with other cards was deleted, or a card or
note added since clashes with one restored (same import id, same card of a note).

Images are not deleted with cards (they belong to the deck), so the restored text's image
links work again as before. A learner whose account was deleted since gets nothing back.

Trash is kept for TRASH_KEPT_FOR, and each user keeps only their newest delete: the next
delete replaces it, and any delete clears everyone's expired trash.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from cards.models import Card, CardTrash, Deck, Note

from .row_tables import Table, chunks

TRASH_KEPT_FOR = timedelta(days=1)


class TrashError(Exception):
    """Undo of a delete cannot put the cards back; the message says why, nothing changed."""


def _dependents(model) -> list[tuple[type[models.Model], str]]:
    """The models whose rows are deleted with `model`'s (a CASCADE foreign key to it), with
    that key's name. Read from the models, so that one added later is kept too."""
    return [
        (rel.related_model, rel.field.name)
        for rel in model._meta.get_fields(include_hidden=True)
        if rel.auto_created and not rel.concrete and rel.one_to_many
        if rel.on_delete is models.CASCADE
    ]


def _read(queryset, key: str, ids: list[int]) -> Table:
    """One table of the rows whose `key` is among `ids`, 500 ids a query."""
    tables = [Table.read(queryset.filter(**{f"{key}__in": chunk})) for chunk in chunks(ids)]
    first = tables[0] if tables else Table.read(queryset.none())
    return Table(first.model, first.columns, [row for table in tables for row in table.rows])


def delete(user, card_ids, now: datetime | None = None) -> tuple[int, CardTrash | None]:
    """Delete the user's own cards among `card_ids` (never a shared deck's, even for staff:
    that is curation, in the admin), keeping what Undo needs. Returns how many were deleted
    and the trash record (None when nothing was deleted)."""
    now = now or timezone.now()
    wanted = sorted({int(pk) for pk in card_ids})
    with transaction.atomic():
        mine = Card._base_manager.select_for_update().filter(deck__owner=user).order_by("pk")
        cards = _read(mine, "pk", wanted)
        if not cards.rows:
            return 0, None
        ids = cards.ids()
        tables = [cards]
        for model, key in _dependents(Card):
            tables.append(_read(model._base_manager.order_by("pk"), key, ids))
        for chunk in chunks(ids):  # the dependents go with them (Django's cascade)
            Card._base_manager.filter(pk__in=chunk).only("pk").delete()
        note_ids = sorted(set(cards.values("note_id")) - {None})
        orphans = _read(
            Note._base_manager.filter(cards__isnull=True).order_by("pk"), "pk", note_ids
        )
        for chunk in chunks(orphans.ids()):
            Note._base_manager.filter(pk__in=chunk).delete()
        decks = Deck.objects.filter(pk__in=set(cards.values("deck_id"))).values_list("pk", "name")
        CardTrash.objects.filter(user=user).delete()
        CardTrash.objects.filter(created_at__lt=now - TRASH_KEPT_FOR).delete()
        trash = CardTrash.objects.create(
            user=user,
            card_count=len(ids),
            decks={str(pk): name for pk, name in decks},
            rows=[table.as_json() for table in [orphans, *tables]],
            created_at=now,
        )
    return len(ids), trash


def latest(user, now: datetime | None = None) -> CardTrash | None:
    """The user's delete that Undo can still take back (without its rows: they are big)."""
    cutoff = (now or timezone.now()) - TRASH_KEPT_FOR
    trash = CardTrash.objects.filter(user=user, created_at__gte=cutoff).defer("rows")
    return trash.order_by("-created_at", "-pk").first()


def restore(trash: CardTrash, now: datetime | None = None) -> int:
    """Put the deleted rows back with their ids, in one transaction, and drop the trash.
    Returns the number of cards restored; raises TrashError (and changes nothing but dropping
    the trash, which can never be restored then) when that cannot be done exactly."""
    now = now or timezone.now()
    with transaction.atomic():
        record = CardTrash.objects.select_for_update().filter(pk=trash.pk).first()
        if record is None:
            raise TrashError("This delete was already undone (in another tab?).")
        record.delete()
        too_old = record.created_at < now - TRASH_KEPT_FOR
        problem = (
            "Delete was not undone: it is too old to undo."
            if too_old
            else _check_decks(record) or _insert(record)
        )
    if problem:
        raise TrashError(problem)
    return record.card_count


def _check_decks(record: CardTrash) -> str:
    saved = {int(pk): name for pk, name in record.decks.items()}
    mine = Deck.objects.filter(pk__in=saved, owner_id=record.user_id).values_list("pk", flat=True)
    gone = sorted(name for pk, name in saved.items() if pk not in set(mine))
    if gone:
        names = ", ".join(f"“{name}”" for name in gone)
        return f"Delete was not undone: the deck {names} was deleted since."
    return ""


def _insert(record: CardTrash) -> str:
    """Insert the rows, parents first; a message instead when they cannot all go back."""
    tables = [Table.of_json(data) for data in record.rows]
    tables = _of_living_users([table for table in tables if table.rows])
    problem = _taken(tables) or _missing_parents(tables, {int(pk) for pk in record.decks})
    if problem:
        return problem
    try:
        with transaction.atomic():
            for table in tables:
                table.insert()
    except IntegrityError:
        return (
            "Delete was not undone: a card or note added since clashes with one it would put "
            "back (the same import id, or the same card of a note)."
        )
    return ""


def _of_living_users(tables: list[Table]) -> list[Table]:
    """Rows of learners whose account still exists: a deleted account's data stays deleted.
    One query for all the tables."""
    keys = [
        [table.columns.index(field.attname) for field in table.foreign_keys(to_users=True)]
        for table in tables
    ]
    wanted = {row[at] for table, ats in zip(tables, keys, strict=True) for row in table.rows
              for at in ats} - {None}  # fmt: skip
    living = set(get_user_model()._base_manager.filter(pk__in=wanted).values_list("pk", flat=True))
    living.add(None)
    return [
        Table(
            table.model,
            table.columns,
            [r for r in table.rows if all(r[at] in living for at in ats)],
        )
        for table, ats in zip(tables, keys, strict=True)
    ]


def _taken(tables: list[Table]) -> str:
    """Whether any id to put back was taken since: one query per model (and 500 ids)."""
    for table in tables:
        manager = table.model._base_manager
        if any(manager.filter(pk__in=chunk).exists() for chunk in chunks(sorted(table.ids()))):
            return (
                f"Delete was not undone: the id of a {table.model._meta.verbose_name} it would "
                "put back was taken since."
            )
    return ""


def _missing_parents(tables: list[Table], decks: set[int]) -> str:
    """Every row's other foreign keys (deck, note, note type) must point at a row that comes
    back with it or still exists (the decks were checked already): one query per model."""
    coming = {table.model: set(table.ids()) for table in tables}
    coming.setdefault(Deck, set()).update(decks)
    wanted: dict[type, set] = {}
    for table in tables:
        for field in table.foreign_keys(to_users=False):
            ids = set(table.values(field.attname)) - {None}
            wanted.setdefault(field.related_model, set()).update(ids)
    for parent, ids in wanted.items():
        ids = sorted(ids - coming.get(parent, set()))
        found = sum(parent._base_manager.filter(pk__in=chunk).count() for chunk in chunks(ids))
        if found != len(ids):
            return (
                f"Delete was not undone: a {parent._meta.verbose_name} its cards belonged to "
                "was deleted since."
            )
    return ""
