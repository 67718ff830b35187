"""Figures from memory states and the review history: mastery, distributions, calibration."""

from __future__ import annotations

import math

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    FloatField,
    IntegerField,
    Min,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Floor, Greatest, Least, Ln
from django.db.models.lookups import LessThanOrEqual

from cards.models import Deck

from .results import (
    DIFFICULTY_BINS,
    LEARNING,
    LOG_EPSILON,
    PASS_GRADE,
    RELEARNING,
    REVIEW,
    STABILITY_BINS,
    CalibrationBin,
    DeckMastery,
    format_duration,
)
from .sql import DaysBetween


def _mastery(user, memories, deck, k, today_start) -> list[DeckMastery]:
    """Two queries: decks with their answered-card counts, and memory states per deck.

    R >= desired retention exactly when the study days since the last review are at most
    stability * k; whole days as the scheduler counts them, so `days since last review before
    today's start <= floor(stability * k)` (a DST shift can move the edge by an hour).
    """
    elapsed = DaysBetween(F("last_review"), Value(today_start, output_field=DateTimeField()))
    limit = Floor(F("stability") * Value(k, output_field=FloatField()))
    per_deck = {
        row["deck"]: row
        for row in memories.values("deck")
        .annotate(
            learning=Count("id", filter=Q(state__in=(LEARNING, RELEARNING))),
            review=Count("id", filter=Q(state=REVIEW)),
            studied=Count("id"),
            mastered=Count("id", filter=LessThanOrEqual(elapsed, limit)),
        )
        .order_by()
    }
    decks = Deck.objects.filter(pk=deck.pk) if deck is not None else Deck.objects.visible_to(user)
    decks = decks.annotate(answered=Count("cards", filter=~Q(cards__answer=""))).order_by(
        "name", "id"
    )
    result = []
    for d in decks.values("id", "name", "owner_id", "answered"):
        row = per_deck.get(d["id"])
        if row is None and d["owner_id"] != user.pk and deck is None:
            continue  # a public deck the user never studied
        row = row or {"learning": 0, "review": 0, "studied": 0, "mastered": 0}
        answered = max(d["answered"], row["studied"])
        result.append(
            DeckMastery(
                deck_id=d["id"],
                name=d["name"],
                answered=answered,
                new=answered - row["studied"],
                learning=row["learning"],
                review=row["review"],
                mastered=row["mastered"],
            )
        )
    return result


def _distributions(memories) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    """Query: one row: the cards studied, a count per stability bin (days) and per difficulty."""
    counts = {"studied": Count("id")}
    for i, (low, high, _, _) in enumerate(STABILITY_BINS):
        q = Q(stability__gte=low) if high is None else Q(stability__gte=low, stability__lt=high)
        counts[f"s{i}"] = Count("id", filter=q)
    for i, (low, high, _) in enumerate(DIFFICULTY_BINS):
        last = i == len(DIFFICULTY_BINS) - 1
        upper = Q(difficulty__lte=high) if last else Q(difficulty__lt=high)
        counts[f"d{i}"] = Count("id", filter=Q(difficulty__gte=low) & upper)
    row = memories.aggregate(**counts)
    return (
        row["studied"],
        [(label, row[f"s{i}"]) for i, (_, _, label, _) in enumerate(STABILITY_BINS)],
        [(label, row[f"d{i}"]) for i, (_, _, label) in enumerate(DIFFICULTY_BINS)],
    )


def _history(logs):
    """Query: one pass over all the user's reviews for the totals and the calibration.

    Grouped by tenth of predicted recall (bin -1 holds the reviews without a usable
    prediction): per bin the count, time, review-state and passed counts, sum predicted, sum
    recalled and the sum of the log-loss terms. Calibration uses the reviews the optimiser
    scores: a prediction was made (not a first review) on a later study day than the card's
    previous review. RMSE is over the bins, weighted by their counts.
    """
    p = Least(Greatest(F("retrievability"), Value(LOG_EPSILON)), Value(1 - LOG_EPSILON))
    recalled = Q(grade__gte=PASS_GRADE)
    scored = Q(retrievability__isnull=False, elapsed_days__gt=0)
    rows = (
        logs.annotate(
            bin=Case(
                When(
                    scored,
                    then=Cast(
                        Least(Floor(F("retrievability") * Value(10.0)), Value(9.0)),
                        output_field=IntegerField(),
                    ),
                ),
                default=Value(-1),
                output_field=IntegerField(),
            )
        )
        .values("bin")
        .annotate(
            n=Count("id"),
            first=Min("reviewed_at"),
            time_ms=Sum("duration_ms"),
            review_state=Count("id", filter=Q(state_before=REVIEW)),
            passed=Count("id", filter=Q(state_before=REVIEW) & recalled),
            predicted=Sum("retrievability"),
            recalled=Count("id", filter=recalled),
            loss=Sum(
                Case(
                    When(scored & recalled, then=-Ln(p)),
                    When(scored, then=-Ln(Value(1.0) - p)),
                    output_field=FloatField(),
                )
            ),
        )
        .order_by("bin")
    )
    totals = {"reviews": 0, "time_ms": 0, "review_state": 0, "passed": 0, "first_review": None}
    bins, total, loss, squared = [], 0, 0.0, 0.0
    for row in rows:
        totals["reviews"] += row["n"]
        if totals["first_review"] is None or row["first"] < totals["first_review"]:
            totals["first_review"] = row["first"]
        for key in ("time_ms", "review_state", "passed"):
            totals[key] += row[key] or 0
        if row["bin"] < 0:
            continue
        n = row["n"]
        predicted, actual = row["predicted"] / n, row["recalled"] / n
        b = min(9, int(row["bin"]))
        bins.append(CalibrationBin(b / 10, (b + 1) / 10, n, predicted, actual))
        total += n
        loss += row["loss"]
        squared += n * (predicted - actual) ** 2
    totals["time_text"] = format_duration(totals["time_ms"])
    totals["retention"] = (
        totals["passed"] / totals["review_state"] if totals["review_state"] else None
    )
    totals["retention_percent"] = None if totals["retention"] is None else 100 * totals["retention"]
    if not total:
        return totals, (bins, None, None, 0)
    return totals, (bins, loss / total, math.sqrt(squared / total), total)
