"""Staff curation of shared decks: answering blank cards, moving cards, finding and merging
near-duplicate questions. Content changes here never reset anyone's schedule."""

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import groupby

from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from cards.models import Card, Deck, MemoryState, Note, ReviewLog

DUPLICATE_RATIO = 0.85
_NOT_WORD = re.compile(r"[\W_]+")


class CurationError(ValueError):
    """A curation step that cannot be done; the message says which card and why."""


def answer_card(card: Card, answer: str) -> Card:
    """Give a card its answer. Memory states stay as they are: a blank card had none, so it
    joins every learner's new-card queue by itself."""
    card.answer = answer
    card.save(update_fields=["answer"])
    return card


def set_suspended(cards, suspended: bool) -> int:
    return cards.update(suspended=suspended, updated_at=timezone.now())


def move_cards(card_ids, target: Deck) -> int:
    """Move cards to the end of another deck, with the deck copied onto their memory states and
    review logs (denormalised there for the queue's indexes). All or nothing."""
    with transaction.atomic():
        # A card moves with its siblings: the cards of one note stay in the note's deck.
        notes = Card.objects.filter(pk__in=card_ids, note__isnull=False).values("note_id")
        chosen = Q(pk__in=card_ids) | Q(note_id__in=notes)
        cards = list(Card.objects.select_for_update().filter(chosen).order_by(*Card._meta.ordering))
        moving = [card for card in cards if card.deck_id != target.pk]
        taken = set(target.cards.exclude(external_id="").values_list("external_id", flat=True))
        clash = [card for card in moving if card.external_id and card.external_id in taken]
        if clash:
            names = ", ".join(f"“{card}” (id {card.external_id})" for card in clash[:3])
            raise CurationError(
                f"{target.name} already has cards with the same import id as {names}; "
                "nothing was moved"
            )
        position = target.cards.aggregate(last=Max("position"))["last"] or 0
        for card in moving:
            position += 1
            card.deck = target
            card.position = position
        Card.objects.bulk_update(moving, ["deck", "position"])
        ids = [card.pk for card in moving]
        Card.objects.filter(pk__in=ids).update(updated_at=timezone.now())
        MemoryState.objects.filter(card_id__in=ids).update(deck=target)
        ReviewLog.objects.filter(card_id__in=ids).update(deck=target)
        Note.objects.filter(cards__pk__in=ids).exclude(deck=target).update(deck=target)
    return len(moving)


def normalise_question(text: str) -> str:
    return _NOT_WORD.sub("", text.lower())


def opening_question(text: str) -> str:
    """The normalised text up to the first "?": "What is RAG? How is it built…" → "whatisrag"."""
    return normalise_question(text.split("?", 1)[0]) if "?" in text else ""


@dataclass
class DuplicatePair:
    first: Card
    second: Card
    ratio: float
    reason: str = "alike"


# Every pair of a deck is compared up to this many cards (about 2 s at 800 on a busy machine);
# in bigger decks only neighbours in sorted order are, which finds near-copies that share a
# long beginning or a long ending — what near-duplicate questions look like in practice.
EXACT_LIMIT = 800
WINDOW = 40
RARE_WORDS = 4
_WORD = re.compile(r"\w+")


def find_duplicates(cards, ratio: float = DUPLICATE_RATIO) -> list[DuplicatePair]:
    """Pairs of cards in the same deck whose normalised questions are at least `ratio` alike,
    or that open with the same question ("What is RAG?" and "What is RAG? How is it built?")."""
    pairs = []
    rows = (
        cards.select_related("deck")
        .only("pk", "deck_id", "deck__name", "question", "answer", "position")
        .order_by("deck_id", "position", "pk")
    )
    for _deck_id, group in groupby(rows, key=lambda card: card.deck_id):
        group = list(group)
        items = [(normalise_question(card.question), card) for card in group]
        found = {}
        candidates = _all_pairs(items, ratio) if len(items) <= EXACT_LIMIT else _neighbours(items)
        matcher, current = SequenceMatcher(None, autojunk=False), None
        for (text_a, card_a), (text_b, card_b) in candidates:
            if card_a is not current:
                # SequenceMatcher caches what it learns about its second sequence.
                matcher.set_seq2(text_a)
                current = card_a
            matcher.set_seq1(text_b)
            if matcher.real_quick_ratio() < ratio or matcher.quick_ratio() < ratio:
                continue
            score = matcher.ratio()
            if score >= ratio:
                found[frozenset((card_a.pk, card_b.pk))] = (card_a, card_b, score, "alike")
        for card_a, card_b in _same_opening(group):
            found.setdefault(
                frozenset((card_a.pk, card_b.pk)), (card_a, card_b, 1.0, "same opening question")
            )
        for card_a, card_b, score, reason in found.values():
            first, second = sorted((card_a, card_b), key=lambda c: (c.position, c.pk))
            pairs.append(DuplicatePair(first, second, score, reason))
    pairs.sort(key=lambda p: (p.first.deck.name, p.first.position, p.first.pk, p.second.pk))
    return pairs


def _all_pairs(items, ratio):
    """Every pair close enough in length to reach the ratio: 2·matches / (a+b) ≥ r needs
    shorter/longer ≥ r / (2 − r), so after sorting by length each scan stops early."""
    items = sorted(items, key=lambda item: len(item[0]))
    least = ratio / (2 - ratio)
    for i, item_a in enumerate(items):
        for item_b in items[i + 1 :]:
            if item_a[0] and len(item_a[0]) / max(len(item_b[0]), 1) < least:
                break
            yield item_a, item_b


def _neighbours(items):
    """Candidates in a big deck: neighbours when sorted from the start and from the end, and
    cards that share one of their rarest words (near-copies share most of their words)."""
    seen = set()

    def fresh(item_a, item_b):
        pair = frozenset((item_a[1].pk, item_b[1].pk))
        if pair in seen or item_a[1].pk == item_b[1].pk:
            return False
        seen.add(pair)
        return True

    for key in (lambda item: item[0], lambda item: item[0][::-1]):
        ordered = sorted(items, key=key)
        for i, item_a in enumerate(ordered):
            for item_b in ordered[i + 1 : i + 1 + WINDOW]:
                if fresh(item_a, item_b):
                    yield item_a, item_b
    words = [set(_WORD.findall(item[1].question.lower())) for item in items]
    holders: dict[str, list[int]] = {}
    for index, found in enumerate(words):
        for word in found:
            holders.setdefault(word, []).append(index)
    for index, found in enumerate(words):
        rarest = sorted(found, key=lambda word: (len(holders[word]), word))[:RARE_WORDS]
        for word in rarest:
            if len(holders[word]) > WINDOW:
                break
            for other in holders[word]:
                if fresh(items[index], items[other]):
                    yield items[index], items[other]


def _same_opening(group):
    by_opening = {}
    for card in group:
        key = opening_question(card.question)
        if len(key) >= 5:
            by_opening.setdefault(key, []).append(card)
    for same in by_opening.values():
        for i, card_a in enumerate(same):
            for card_b in same[i + 1 :]:
                yield card_a, card_b


@dataclass
class MergeResult:
    kept: Card
    removed_id: int
    answer_filled: bool
    users_moved: int
    logs_moved: int


def merge_cards(kept: Card, removed: Card) -> MergeResult:
    """Merge `removed` into `kept` and delete it.

    Every user's history of the kept card stays as it is. A user who studied only the removed
    card keeps that history: their logs and memory state move to the kept card. (A user who
    studied both keeps the kept card's history; the other card's goes with it.)
    """
    if kept.pk == removed.pk:
        raise CurationError("a card cannot be merged into itself")
    with transaction.atomic():
        kept = Card.objects.select_for_update().get(pk=kept.pk)
        removed = Card.objects.select_for_update().get(pk=removed.pk)
        answer_filled = False
        if kept.needs_answer and not removed.needs_answer:
            kept.answer = removed.answer
            kept.save(update_fields=["answer"])
            answer_filled = True
        has_state = MemoryState.objects.filter(card=kept).values("user_id")
        moving_users = set(
            ReviewLog.objects.filter(card=removed)
            .exclude(user_id__in=has_state)
            .values_list("user_id", flat=True)
        ) | set(
            MemoryState.objects.filter(card=removed)
            .exclude(user_id__in=has_state)
            .values_list("user_id", flat=True)
        )
        logs_moved = ReviewLog.objects.filter(card=removed, user_id__in=moving_users).update(
            card=kept, deck=kept.deck_id
        )
        MemoryState.objects.filter(card=removed, user_id__in=moving_users).update(
            card=kept, deck=kept.deck_id, studyable=kept.is_studyable
        )
        removed_id = removed.pk
        removed.delete()
    return MergeResult(kept, removed_id, answer_filled, len(moving_users), logs_moved)


def unanswered_cards(deck: Deck | None = None, exclude=()):
    """Blank cards in deck order, for the "Fill missing answers" walk."""
    cards = Card.objects.needing_answer().exclude(pk__in=list(exclude))
    if deck is not None:
        cards = cards.filter(deck=deck)
    return cards.select_related("deck").order_by(F("deck__name"), "deck_id", "position", "pk")
