"""A simulated learner whose memory follows FSRS-6 with known parameters (optimiser tests)."""

import random
from datetime import UTC, datetime, timedelta

import fsrs_rs_python as fr

from cards.scheduling import forgetting_curve

DEFAULTS = list(fr.DEFAULT_PARAMETERS)
# A learner who forgets faster at first and whose curve is steeper than the defaults assume.
TRUE_PARAMETERS = list(DEFAULTS)
TRUE_PARAMETERS[0:4] = [0.08, 0.4, 1.0, 4.0]
TRUE_PARAMETERS[20] = 0.45


def simulate_revlog(
    n_cards: int,
    reviews_per_card: int,
    parameters=TRUE_PARAMETERS,
    seed: int = 7,
    start: datetime | None = None,
) -> list[tuple[str, int, int]]:
    """(card id, review ms, FSRS rating) rows, in time order per card.

    Each card is first seen at noon UTC on some day, then reviewed again after intervals around
    its true stability; whether it is recalled is drawn from the FSRS-6 forgetting curve of the
    true parameters, and the true memory state moves on with fsrs-rs-python.
    """
    rng = random.Random(seed)
    fsrs = fr.FSRS(list(parameters))
    decay = parameters[20]
    start = start or datetime(2022, 1, 3, 12, tzinfo=UTC)
    rows = []
    for index in range(n_cards):
        card_id = f"s{index}"
        at = start + timedelta(days=rng.randrange(0, 60))
        rating = rng.choices([1, 2, 3, 4], weights=[25, 10, 55, 10])[0]
        memory = getattr(fsrs.next_states(None, 0.9, 0), _name(rating)).memory
        rows.append((card_id, _ms(at), rating))
        for _ in range(reviews_per_card - 1):
            days = max(1, min(120, round(memory.stability * rng.uniform(0.3, 3.0))))
            at += timedelta(days=days)
            recalled = rng.random() < forgetting_curve(days, memory.stability, decay)
            rating = rng.choices([2, 3, 4], weights=[15, 70, 15])[0] if recalled else 1
            memory = getattr(fsrs.next_states(memory, 0.9, days), _name(rating)).memory
            rows.append((card_id, _ms(at), rating))
    return rows


def revlog_text(rows) -> str:
    lines = ["card_id,review_time,review_rating"]
    lines += [f"{card},{ms},{rating}" for card, ms, rating in sorted(rows, key=lambda r: r[1])]
    return "\n".join(lines) + "\n"


def cards_text(n_cards: int) -> str:
    lines = ["question,answer,id"]
    lines += [f"Question {i}?,Answer {i},s{i}" for i in range(n_cards)]
    return "\n".join(lines) + "\n"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp()) * 1000


def _name(rating: int) -> str:
    return ("again", "hard", "good", "easy")[rating - 1]
