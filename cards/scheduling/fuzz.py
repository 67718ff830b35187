"""Anki's interval fuzz: the random draw of one answer and the arithmetic that uses it.

The draw is an explicit input of the policy (`FuzzDraw`): two uniform 32-bit words. Anki takes
them from `rand`'s StdRng seeded with card id + reps; we take them from a SHA-256 of the review's
fuzz seed, and a test can hand both sides the same words. Anki computes in f32, so the bounds
arithmetic below rounds to f32 after every operation (rslib/src/scheduler/states/fuzz.rs).
"""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass

_U32 = 1 << 32
_F32 = struct.Struct("f")
_pack_f32, _unpack_f32 = _F32.pack, _F32.unpack


def f32(x: float) -> float:
    """Round to the nearest single-precision float (Rust's f32), kept as a Python float."""
    return _unpack_f32(_pack_f32(x))[0]


# Anki's fuzz ranges: (start day, end day, f32 fraction) summed piecewise on a 1-day base.
_FUZZ_RANGES = ((2.5, 7.0, f32(0.15)), (7.0, 20.0, f32(0.10)), (20.0, math.inf, f32(0.05)))


def round_half_away(x: float) -> int:
    """Rust's f32::round: halves away from zero (Python's round() is banker's rounding)."""
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def _as_u32(x: float) -> int:
    # Rust's `as u32` saturates: negative values become 0.
    return min(max(int(x), 0), _U32 - 1)


def round_places(value: float, places: int) -> float:
    """Anki's stored precision (storage/card/data.rs round_to_places), in f32 like Anki."""
    factor = f32(10.0**places)
    return round_half_away(f32(f32(value) * factor)) / 10**places


@dataclass(frozen=True)
class FuzzDraw:
    """The random input of one answer: two uniform 32-bit words, used in order."""

    first: int
    second: int

    def __post_init__(self) -> None:
        for name in ("first", "second"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _U32:
                raise ValueError(f"FuzzDraw.{name}: expected a 32-bit unsigned word, got {value!r}")

    @classmethod
    def from_seed(cls, seed: str) -> FuzzDraw:
        """The draw of a stored fuzz seed (ReviewLog.fuzz_seed): a replay gets the same words."""
        digest = hashlib.sha256(seed.encode("utf-8")).digest()
        return cls(int.from_bytes(digest[:4], "little"), int.from_bytes(digest[4:8], "little"))

    @property
    def review_factor(self) -> float:
        """rand's `random_range(0.0..1.0)` for f32: the top 23 bits of the first word."""
        return (self.first >> 9) / (1 << 23)

    def learning_delay(self, secs: int) -> int:
        """Anki's learning_ivl_with_fuzz: a step delayed by up to min(25%, 5 min), whole seconds.

        rand's `random_range(secs..upper)` on u32: Canon's widening multiply, with the second
        word correcting the rare biased sample (answering/learning.rs).
        """
        upper = secs + math.floor(min(f32(secs * f32(0.25)), 300.0))
        if secs >= upper:
            return secs
        span = upper - secs
        product = self.first * span
        result, low = product >> 32, product & (_U32 - 1)
        if low > (_U32 - span) % _U32:
            carry = (self.second * span) >> 32
            result += 1 if low + carry >= _U32 else 0
        return secs + result


def _fuzz_delta(interval: float) -> float:
    if interval < 2.5:
        return 0.0
    delta = 1.0
    for start, end, factor in _FUZZ_RANGES:
        if interval <= start:
            break  # this range and the later ones add nothing
        delta = f32(delta + f32(factor * f32(min(interval, end) - start)))
    return delta


def fuzz_bounds(interval: float, minimum: int, maximum: int) -> tuple[int, int]:
    """Anki's constrained_fuzz_bounds: the fuzz window, kept inside [minimum, maximum]."""
    minimum = min(minimum, maximum)
    interval = min(max(f32(interval), float(minimum)), float(maximum))
    delta = _fuzz_delta(interval)
    lower = min(max(_as_u32(round_half_away(f32(interval - delta))), minimum), maximum)
    upper = min(max(_as_u32(round_half_away(f32(interval + delta))), minimum), maximum)
    if upper == lower and 2 < upper < maximum:
        upper = lower + 1
    return lower, upper


def with_review_fuzz(interval: float, minimum: int, maximum: int, factor: float | None) -> int:
    """Whole days: fuzzed inside the window (factor in [0, 1)), or rounded and clamped."""
    if factor is None:
        return min(max(_as_u32(round_half_away(f32(interval))), min(minimum, maximum)), maximum)
    lower, upper = fuzz_bounds(interval, minimum, maximum)
    return _as_u32(math.floor(f32(lower + f32(f32(factor) * f32(1 + upper - lower)))))


def review_floor(interval: float, previous: int, maximum: int) -> int:
    """Anki's minimum_review_fuzz_interval: a passed review does not shrink the interval
    unless the new interval's fuzz window lies wholly below the previous one."""
    if _as_u32(round_half_away(f32(interval))) > previous:
        return previous + 1
    _, upper = fuzz_bounds(interval, 1, maximum)
    return previous if previous <= upper else 0
