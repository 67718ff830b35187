"""Anki's leech rule (rslib scheduler/states/review.rs leech_threshold_met), kept pure."""

import math


def leech_threshold_met(lapses: int, threshold: int) -> bool:
    """True when `lapses` is the threshold, or the threshold plus a multiple of half of it
    (rounded up): with 8, at 8, 12, 16, …; with 3, at 3, 5, 7, …. A threshold of 0 is off."""
    if threshold <= 0:
        return False
    half = max(math.ceil(threshold / 2), 1)
    return lapses >= threshold and (lapses - threshold) % half == 0
