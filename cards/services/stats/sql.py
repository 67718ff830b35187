"""SQL building blocks of the statistics: the study day of an instant, days between two."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db.models import (
    DateField,
    FloatField,
    Func,
)

from cards.scheduling.days import get_zone, study_day

# -- SQL building blocks ------------------------------------------------------------------------


class StudyDay(Func):
    """The study day of a timestamp: local wall time in `tz`, shifted back by `hour` hours.

    The same rule as cards.scheduling.days.study_day, DST included. PostgreSQL does it natively
    (AT TIME ZONE). On SQLite, given the range [start, end) the rows fall in, it is SQLite's own
    date() plus a fixed offset per stretch of constant UTC offset (a CASE with one branch per
    DST change in the range), so no Python runs per row; without a range it falls back to
    study_day itself through a function registered in cards/apps.py.
    """

    output_field = DateField()

    def __init__(self, expression, tz: str, hour: int, start=None, end=None):
        super().__init__(expression)
        self.tz, self.hour, self.start, self.end = tz, int(hour), start, end

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        if self.start is None or self.end is None:
            return f"studyapp_study_day({sql}, %s, %s)", (*params, self.tz, self.hour)
        segments = offset_segments(self.tz, self.start, self.end)
        shift = [f"{offset - self.hour * 3600:+d} seconds" for _, offset in segments]
        if len(segments) == 1:
            return f"date({sql}, %s)", (*params, shift[0])
        parts, all_params = ["CASE"], []
        for (until, _), modifier in zip(segments[:-1], shift, strict=False):
            parts.append(f"WHEN {sql} < %s THEN date({sql}, %s)")
            all_params += [*params, connection.ops.adapt_datetimefield_value(until), *params]
            all_params.append(modifier)
        parts.append(f"ELSE date({sql}, %s) END")
        all_params += [*params, shift[-1]]
        return " ".join(parts), tuple(all_params)

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"((({sql}) AT TIME ZONE %s) - make_interval(hours => %s))::date",
            (*params, self.tz, self.hour),
        )


def offset_segments(tz: str, start: datetime, end: datetime) -> list[tuple[datetime | None, int]]:
    """The zone's UTC offsets over [start, end): [(until, offset seconds), ..., (None, last)].

    Steps a week at a time and bisects each change down to the second (zones change offset at
    most a few times a year, months apart), so a year costs about 100 offset look-ups.
    """
    zone = get_zone(tz)

    def offset(moment: datetime) -> int:
        return int(moment.astimezone(zone).utcoffset().total_seconds())

    segments: list[tuple[datetime | None, int]] = []
    moment, current = start, offset(start)
    while moment < end:
        following = min(moment + timedelta(days=7), end)
        if offset(following) != current:
            low, high = moment, following
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == current else (low, middle)
            change = high.replace(microsecond=0)  # offsets change on whole seconds
            segments.append((change, current))
            current = offset(change)
        moment = following
    segments.append((None, current))
    return segments


class DaysBetween(Func):
    """(later - earlier) in fractional days."""

    output_field = FloatField()

    def __init__(self, earlier, later):
        super().__init__(earlier, later)

    def _parts(self, compiler):
        earlier, p1 = compiler.compile(self.source_expressions[0])
        later, p2 = compiler.compile(self.source_expressions[1])
        return earlier, later, (*p2, *p1)

    def as_sqlite(self, compiler, connection, **extra):
        earlier, later, params = self._parts(compiler)
        return f"(julianday({later}) - julianday({earlier}))", params

    def as_postgresql(self, compiler, connection, **extra):
        earlier, later, params = self._parts(compiler)
        return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0)", params


def sqlite_study_day(value, tz, hour):
    """SQLite side of StudyDay: Django stores aware datetimes as naive UTC text."""
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
    return study_day(moment, tz, int(hour)).isoformat()


def register_sqlite_functions(sender, connection, **kwargs):
    """connection_created receiver (cards/apps.py)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "studyapp_study_day", 3, sqlite_study_day, deterministic=True
        )
