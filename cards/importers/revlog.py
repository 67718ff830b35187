"""Review history in the FSRS ecosystem's revlog CSV, and memory states out as CSV.

Revlog columns: card_id,review_time,review_rating[,review_state,review_duration] — review_time in
milliseconds since the Unix epoch, review_rating the FSRS grade 1-4 (Again/Hard/Good/Easy),
review_state the state before the review (0 New, 1 Learning, 2 Review, 3 Relearning),
review_duration in milliseconds.

On import the logs are stored and every affected card's history is replayed through the
scheduling core under the user's own policy, so the states (and review_state) are ours; the
file's review_state is checked for range only.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cards.importers.errors import ImportFileError
from cards.models import Card, Deck, MemoryState, ReviewLog
from cards.scheduling import CardState, Grade, Policy, State, replay
from cards.services.reviews import fuzz_seed_of
from cards.services.settings import get_study_settings, policy_for

REQUIRED = ("card_id", "review_time", "review_rating")
OPTIONAL = ("review_state", "review_duration")
HEADER = REQUIRED + OPTIONAL
STATE_NAMES = {int(s): s.name.capitalize() for s in State}  # 0 New … 3 Relearning
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)
MAX_DURATION_MS = 2**31 - 1
MAX_ERRORS_SHOWN = 20
MAX_DATETIME_MS = (datetime.max.replace(tzinfo=UTC) - EPOCH) // ONE_MS
# The log fields a revlog row gives, by the column they come from; the model checks them.
FROM_FILE = {"rating": "review_rating", "grade": "review_rating", "reviewed_at": "review_time",
             "duration_ms": "review_duration"}  # fmt: skip

Progress = Callable[[str], None]


class RevlogErrors(ImportFileError):
    """Every problem found in a file, each naming its row; nothing was imported."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = problems[:MAX_ERRORS_SHOWN]
        more = len(problems) - len(shown)
        text = "\n".join(shown) + (f"\n… and {more} more" if more else "")
        super().__init__(f"{len(problems)} problem(s) found:\n{text}")


@dataclass
class RevlogRow:
    line: int
    card: Card
    reviewed_at: datetime
    grade: int
    duration_ms: int


@dataclass
class RevlogImportResult:
    created: int = 0
    skipped: int = 0
    cards: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.created} reviews imported, {self.skipped} already there, "
            f"{self.cards} cards rescheduled"
        )


def to_ms(moment: datetime) -> int:
    """Whole milliseconds since the epoch (floored, so export -> import -> export is stable)."""
    return (moment - EPOCH) // ONE_MS


def from_ms(ms: int) -> datetime:
    return EPOCH + ms * ONE_MS


def iso_utc(moment: datetime | None) -> str:
    """ISO 8601 in UTC with milliseconds, e.g. 2026-01-31T04:00:00.000Z; empty for None."""
    if moment is None:
        return ""
    moment = from_ms(to_ms(moment))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def card_key(card: Card) -> str:
    """The id a card has in our files: its external id, else its primary key."""
    return card.external_id or str(card.pk)


def find_deck(user, name: str) -> Deck:
    """The user's own deck of that name, else the one public deck of that name."""
    own = Deck.objects.filter(owner=user, name=name).first()
    if own is not None:
        return own
    public = list(Deck.objects.filter(is_public=True, name=name).order_by("id")[:2])
    if len(public) == 1:
        return public[0]
    if public:
        raise ImportFileError(f"several public decks are named {name!r}; import into your own")
    raise ImportFileError(f"no deck named {name!r} that you own or that is public")


# -- import ----------------------------------------------------------------------------------


def _int(text: str) -> int | None:
    text = text.strip()
    digits = text[1:] if text[:1] in ("+", "-") else text
    # ASCII only ("²" is a digit to isdigit() but not to int()), and no 4,300-digit numbers.
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 30):
        return None
    return int(text)


def parse_revlog(
    text: str,
    cards: dict[str, Card],
    existing: dict[int, dict[int, int]],
    now: datetime,
    progress: Progress | None = None,
) -> tuple[list[RevlogRow], int]:
    """Validate every row; return the new rows and how many duplicate an existing log.

    `cards` maps file ids to cards; `existing` maps card pk -> {review ms: grade} of the logs
    already stored. Raises RevlogErrors listing every bad row; row numbers are file lines.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise RevlogErrors(["row 1: the file is empty"]) from None
    except csv.Error as exc:
        raise RevlogErrors([f"row 1: malformed CSV header: {exc}"]) from None
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name not in HEADER]
    if missing or unknown or len(set(header)) != len(header):
        what = []
        if missing:
            what.append(f"missing {', '.join(missing)}")
        if unknown:
            what.append(f"unknown column {unknown[0]!r}")
        if len(set(header)) != len(header):
            what.append("a column is named twice")
        raise RevlogErrors(
            [
                f"row 1: the header must be {','.join(REQUIRED)}[,review_state,review_duration] "
                f"({'; '.join(what)})"
            ]
        )
    col = {name: header.index(name) for name in header}
    now_ms = to_ms(now)
    problems: list[str] = []
    rows: list[RevlogRow] = []
    skipped = 0
    last_seen: dict[int, tuple[int, int]] = {}  # card pk -> (ms, line) of its previous row
    try:
        for row in reader:
            line = reader.line_num
            if progress and line % 10000 == 0:
                progress(f"  checked {line} rows")
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                problems.append(f"row {line}: expected {len(header)} fields, found {len(row)}")
                continue
            bad: list[str] = []
            key = row[col["card_id"]].strip()
            card = cards.get(key)
            if not key:
                bad.append("card_id is empty")
            elif card is None:
                bad.append(f"unknown card_id {key!r} (no card with that id in this deck)")
            ms = _int(row[col["review_time"]])
            if ms is None:
                bad.append(
                    f"review_time {row[col['review_time']].strip()!r} is not a whole number "
                    "of milliseconds since 1970"
                )
            elif ms <= 0:
                bad.append(f"review_time {ms} is not after 1970")
            elif ms > now_ms:
                # Past year 9999 no datetime can show it (OverflowError): say so instead.
                when = iso_utc(from_ms(ms)) if ms < MAX_DATETIME_MS else "after the year 9999"
                bad.append(f"review_time {ms} ({when}) is in the future")
            rating = _int(row[col["review_rating"]])
            if rating is None or not 1 <= rating <= 4:
                bad.append(
                    f"review_rating {row[col['review_rating']].strip()!r} must be 1, 2, 3 or 4"
                )
            if "review_state" in col and row[col["review_state"]].strip():
                state = _int(row[col["review_state"]])
                if state is None or not 0 <= state <= 3:
                    bad.append(
                        f"review_state {row[col['review_state']].strip()!r} must be 0-3 "
                        "(New, Learning, Review, Relearning) or empty"
                    )
            duration = 0
            if "review_duration" in col and row[col["review_duration"]].strip():
                value = _int(row[col["review_duration"]])
                if value is None or not 0 <= value <= MAX_DURATION_MS:
                    bad.append(
                        f"review_duration {row[col['review_duration']].strip()!r} must be a "
                        "whole number of milliseconds, 0 or more"
                    )
                else:
                    duration = value
            if card is not None and ms is not None and 0 < ms <= now_ms:
                previous = last_seen.get(card.pk)
                if previous is not None and ms <= previous[0]:
                    bad.append(
                        f"review_time {ms} of card {key!r} is not after its previous review "
                        f"on row {previous[1]} ({previous[0]}); a card's reviews must be in "
                        "time order"
                    )
                last_seen[card.pk] = (ms, line)
                stored = existing.get(card.pk, {}).get(ms)
                if stored is not None and rating is not None and stored != rating and not bad:
                    bad.append(
                        f"card {key!r} already has a review at {ms} rated {stored}, not {rating}"
                    )
            if bad:
                problems.append(f"row {line}: " + "; ".join(bad))
                continue
            assert card is not None and ms is not None and rating is not None
            if existing.get(card.pk, {}).get(ms) == rating:
                skipped += 1  # the same review imported before
                continue
            rows.append(RevlogRow(line, card, from_ms(ms), rating, duration))
    except csv.Error as exc:
        problems.append(f"row {reader.line_num}: malformed CSV: {exc}")
    if problems:
        raise RevlogErrors(problems)
    return rows, skipped


def _state_of(memory: CardState) -> dict:
    """The before-state snapshot a log keeps for undo, in cards.services.reviews' format."""
    if memory.state == State.NEW:
        return {"exists": False}
    return {
        "exists": True,
        "state": int(memory.state),
        "step": memory.step,
        "stability": memory.stability,
        "difficulty": memory.difficulty,
        "due": memory.due.isoformat(),
        "last_review": memory.last_review.isoformat() if memory.last_review else None,
        "reps": memory.reps,
        "lapses": memory.lapses,
    }


def _apply_outcome(log: ReviewLog, outcome) -> None:
    log.state_before = int(outcome.before.state)
    snapshot = _state_of(outcome.before)
    if snapshot["exists"] and "version" in (log.before or {}):
        snapshot["version"] = log.before["version"]  # a live review's; undo does not need it
    log.before = snapshot
    log.elapsed_days = outcome.elapsed_days
    log.retrievability = outcome.retrievability
    log.state_after = int(outcome.after.state)
    log.stability_after = outcome.after.stability
    log.difficulty_after = outcome.after.difficulty
    log.due_after = outcome.after.due


DERIVED = [
    "fuzz_seed",
    "state_before",
    "before",
    "elapsed_days",
    "retrievability",
    "state_after",
    "stability_after",
    "difficulty_after",
    "due_after",
]


def replay_card_logs(card: Card, logs: list[ReviewLog], policy: Policy):
    """Replay one card's logs (sorted in place by time) and fill their derived fields."""
    logs.sort(key=lambda log: (log.reviewed_at, log.pk is None, log.pk or 0))
    for i, log in enumerate(logs):
        log.fuzz_seed = fuzz_seed_of(log, card.pk, i)  # kept, so a later replay agrees
    outcomes = replay(((Grade(log.grade), log.reviewed_at, log.fuzz_seed) for log in logs), policy)
    for log, outcome in zip(logs, outcomes, strict=True):
        _apply_outcome(log, outcome)
    return outcomes[-1].after if outcomes else None


def _check_logs(rows: list[RevlogRow], new_logs: dict[int, list[ReviewLog]]) -> None:
    """The model's own validation of what each row gives, each failure named by its row."""
    others = [f.name for f in ReviewLog._meta.fields if f.name not in FROM_FILE]
    problems = []
    for row, log in zip(rows, _in_row_order(rows, new_logs), strict=True):
        try:
            log.clean_fields(exclude=others)
            log.clean()
        except ValidationError as exc:
            reasons = [
                f"{FROM_FILE.get(name, name)} {message}"
                for name, messages in exc.message_dict.items()
                for message in messages
            ]
            problems.append(f"row {row.line}: " + "; ".join(reasons))
    if problems:
        raise RevlogErrors(problems)


def _in_row_order(rows, new_logs) -> list[ReviewLog]:
    # new_logs was filled in row order, card by card: walk it the same way.
    position = defaultdict(int)
    ordered = []
    for row in rows:
        ordered.append(new_logs[row.card.pk][position[row.card.pk]])
        position[row.card.pk] += 1
    return ordered


def import_revlog(
    text: str, user, deck: Deck, progress: Progress | None = None, now: datetime | None = None
) -> RevlogImportResult:
    """Validate the whole file, then in one transaction add the logs and reschedule the cards."""
    now = now or timezone.now()
    say = progress or (lambda message: None)
    policy = policy_for(get_study_settings(user))
    with transaction.atomic():
        cards: dict[str, Card] = {}
        deck_cards = list(deck.cards.all())
        for card in deck_cards:  # pks first, so an external id wins over an equal pk
            if not card.external_id:
                cards[str(card.pk)] = card
        for card in deck_cards:
            if card.external_id:
                cards[card.external_id] = card
        logs_by_card: dict[int, list[ReviewLog]] = defaultdict(list)
        for log in ReviewLog.objects.filter(user=user, card__deck=deck).order_by("reviewed_at"):
            logs_by_card[log.card_id].append(log)
        existing = {
            pk: {to_ms(log.reviewed_at): log.grade for log in logs}
            for pk, logs in logs_by_card.items()
        }
        rows, skipped = parse_revlog(text, cards, existing, now, progress)
        result = RevlogImportResult(skipped=skipped)
        if not rows:
            return result
        say(f"  {len(rows)} new reviews valid; rescheduling their cards")
        new_logs: dict[int, list[ReviewLog]] = defaultdict(list)
        card_of: dict[int, Card] = {}
        for row in rows:
            card_of[row.card.pk] = row.card
            new_logs[row.card.pk].append(
                ReviewLog(
                    user=user,
                    card=row.card,
                    deck_id=row.card.deck_id,
                    rating=row.grade,
                    rating_scale="four",
                    grade=row.grade,
                    reviewed_at=row.reviewed_at,
                    duration_ms=row.duration_ms,
                )
            )
        _check_logs(rows, new_logs)
        changed_old: list[ReviewLog] = []
        finals: dict[int, CardState] = {}
        for index, (pk, fresh) in enumerate(new_logs.items(), start=1):
            old = logs_by_card.get(pk, [])
            before = {log.pk: [getattr(log, f) for f in DERIVED] for log in old}
            finals[pk] = replay_card_logs(card_of[pk], old + fresh, policy)
            changed_old += [
                log for log in old if [getattr(log, f) for f in DERIVED] != before[log.pk]
            ]
            if index % 1000 == 0:
                say(f"  replayed {index}/{len(new_logs)} cards")
        say(f"  saving {len(rows)} reviews and {len(finals)} memory states")
        created = ReviewLog.objects.bulk_create(
            [log for fresh in new_logs.values() for log in fresh], batch_size=1000
        )
        if changed_old:
            ReviewLog.objects.bulk_update(changed_old, DERIVED, batch_size=500)
        _save_states(user, card_of, finals)
        result.created = len(created)
        result.cards = len(finals)
    return result


def _save_states(user, card_of: dict[int, Card], finals: dict[int, CardState]) -> None:
    current = {m.card_id: m for m in MemoryState.objects.filter(user=user, card_id__in=finals)}
    to_create, to_update = [], []
    for pk, final in finals.items():
        memory = current.get(pk) or MemoryState.of(user, card_of[pk])
        memory.state = int(final.state)
        memory.step = final.step
        memory.stability = final.stability
        memory.difficulty = final.difficulty
        memory.due = final.due
        memory.last_review = final.last_review
        memory.reps = final.reps
        memory.lapses = final.lapses
        if memory.pk is None:
            to_create.append(memory)
        else:
            memory.version += 1  # review tokens issued for the old state go stale
            to_update.append(memory)
    MemoryState.objects.bulk_create(to_create, batch_size=1000)
    fields = ["state", "step", "stability", "difficulty", "due", "last_review", "reps", "lapses"]
    MemoryState.objects.bulk_update(to_update, fields + ["version"], batch_size=500)


# -- export ----------------------------------------------------------------------------------


def revlog_rows(logs: Iterable[ReviewLog]) -> Iterator[list]:
    yield list(HEADER)
    for log in logs:
        yield [
            card_key(log.card),
            to_ms(log.reviewed_at),
            log.grade,
            log.state_before,
            log.duration_ms,
        ]


def state_rows(states: Iterable[MemoryState]) -> Iterator[list]:
    yield ["card_id", "state", "stability", "difficulty", "due", "last_review", "reps", "lapses"]
    for memory in states:
        yield [
            card_key(memory.card),
            STATE_NAMES[memory.state],
            "" if memory.stability is None else repr(memory.stability),
            "" if memory.difficulty is None else repr(memory.difficulty),
            iso_utc(memory.due),
            iso_utc(memory.last_review),
            memory.reps,
            memory.lapses,
        ]


def write_csv(rows: Iterable[list], out) -> int:
    """Write rows with plain \\n line ends; return the number of data rows."""
    writer = csv.writer(out, lineterminator="\n")
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return max(count - 1, 0)
