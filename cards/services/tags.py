"""Tags across a user's decks: counted, renamed, deleted (Anki's sidebar tag actions).

Tags are space-separated on each card and matched as Anki matches them: case-insensitively,
a tag with its children (renaming `a` to `b` turns `a::x` into `b::x`). Only cards whose deck
the user may edit change (Deck.editable_by); each rename or delete is one transaction and
says how many cards changed.
"""

from __future__ import annotations

import re
from collections import Counter

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cards.models import Card, Deck
from cards.search.patterns import tag_regex
from cards.search.sql import TagsMatch
from cards.services.note_bulk import sync_note_tags

TAGS_MAX_CHARS = Card._meta.get_field("tags").max_length
_VALID = re.compile(r"[^\s\x00]+")


class TagError(ValueError):
    """A tag that cannot be used; the message says why, and nothing changed."""


def _editable_cards(user):
    return Card.objects.filter(deck__in=Deck.objects.editable_by(user))


def tag_counts(user) -> list[tuple[str, int]]:
    """Each tag on the user's editable cards with its number of cards, by name (one query)."""
    counts: Counter = Counter()
    names: dict[str, str] = {}
    for tags in _editable_cards(user).exclude(tags="").values_list("tags", flat=True).iterator():
        for tag in set(tags.split()):
            key = tag.casefold()
            names.setdefault(key, tag)
            counts[key] += 1
    return sorted(((names[key], n) for key, n in counts.items()), key=lambda t: t[0].casefold())


def _check(tag: str, what: str) -> str:
    tag = tag.strip()
    if not _VALID.fullmatch(tag):
        raise TagError(f"The {what} must be one word without spaces, not “{tag}”.")
    return tag


def _escaped(tag: str) -> str:
    """The tag as a search value: its wildcard and escape characters literal."""
    return re.sub(r"([*_\\])", r"\\\1", tag)


def _rewrite(user, old: str, change) -> int:
    """Apply change(tag) -> new tag or None to each tag that is `old` or a child of it."""
    prefix = old.casefold()
    matching = _editable_cards(user).filter(Q(TagsMatch(tag_regex(_escaped(old)))))
    with transaction.atomic():
        changed = []
        for card in matching.select_for_update().only("pk", "tags"):
            tags = []
            for tag in card.tags.split():
                key = tag.casefold()
                if key == prefix or key.startswith(prefix + "::"):
                    tag = change(tag)
                if tag and tag.casefold() not in {t.casefold() for t in tags}:
                    tags.append(tag)
            text = " ".join(tags)
            if text == card.tags:
                continue
            if len(text) > TAGS_MAX_CHARS:
                raise TagError(
                    f"Card {card.pk} would have more than {TAGS_MAX_CHARS} characters of "
                    "tags; nothing changed."
                )
            card.tags, card.updated_at = text, timezone.now()
            changed.append(card)
        Card.objects.bulk_update(changed, ["tags", "updated_at"], batch_size=500)
        # Anki's tags are the note's: the note takes the card's tags, its siblings follow.
        sync_note_tags([card.pk for card in changed])
    return len(changed)


def rename_tag(user, old: str, new: str) -> int:
    old, new = _check(old, "tag"), _check(new, "new name")
    return _rewrite(user, old, lambda tag: new + tag[len(old) :])


def delete_tag(user, tag: str) -> int:
    return _rewrite(user, _check(tag, "tag"), lambda _: None)
