"""Anki's fuzz draw for the oracle test: rand 0.9's StdRng (ChaCha12) seeded with seed_from_u64.

Anki seeds it with card id + reps (rslib scheduler/answering/mod.rs get_fuzz_seed) and uses the
first two 32-bit outputs at most (review fuzz factor, learning-step fuzz). Ported from
rand_core 0.9 (SeedableRng::seed_from_u64, a PCG32 filling the 32-byte key) and rand_chacha
0.9 (djb ChaCha, 12 rounds, 64-bit block counter and stream 0); checked against Anki's outputs
by the oracle test itself.
"""

from cards.scheduling import FuzzDraw

_MASK = 0xFFFFFFFF
_CONSTANTS = (0x61707865, 0x3320646E, 0x79622D32, 0x6B206574)  # "expand 32-byte k"


def _rotl(x: int, n: int) -> int:
    return ((x << n) & _MASK) | (x >> (32 - n))


def _quarter(s: list[int], a: int, b: int, c: int, d: int) -> None:
    s[a] = (s[a] + s[b]) & _MASK
    s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & _MASK
    s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & _MASK
    s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & _MASK
    s[b] = _rotl(s[b] ^ s[c], 7)


def chacha_block(key: list[int], counter: int = 0, rounds: int = 12) -> list[int]:
    """One 16-word ChaCha block (key: 8 little-endian words; nonce/stream 0)."""
    initial = [*_CONSTANTS, *key, counter & _MASK, counter >> 32, 0, 0]
    s = list(initial)
    for _ in range(rounds // 2):
        _quarter(s, 0, 4, 8, 12)
        _quarter(s, 1, 5, 9, 13)
        _quarter(s, 2, 6, 10, 14)
        _quarter(s, 3, 7, 11, 15)
        _quarter(s, 0, 5, 10, 15)
        _quarter(s, 1, 6, 11, 12)
        _quarter(s, 2, 7, 8, 13)
        _quarter(s, 3, 4, 9, 14)
    return [(x + y) & _MASK for x, y in zip(s, initial, strict=True)]


def seed_from_u64(state: int) -> list[int]:
    """rand_core's seed_from_u64: PCG32 output words as the 32-byte seed (8 key words)."""
    words = []
    for _ in range(8):
        state = (state * 6364136223846793005 + 11634580027462260723) & 0xFFFFFFFFFFFFFFFF
        xorshifted = (((state >> 18) ^ state) >> 27) & _MASK
        rot = state >> 59
        words.append(((xorshifted >> rot) | (xorshifted << ((32 - rot) & 31))) & _MASK)
    return words


def anki_draw(card_id: int, reps_before: int) -> FuzzDraw:
    """The draw Anki uses when a card with `reps_before` reviews is answered."""
    block = chacha_block(seed_from_u64((card_id + reps_before) & 0xFFFFFFFFFFFFFFFF))
    return FuzzDraw(block[0], block[1])


def draw_as_anki(monkeypatch) -> dict[int, int]:
    """Make our fuzz draws Anki's: returns the map to fill, our card id -> Anki's card id (a
    review's seed "{card}:{reps}" then names the draw Anki makes for that card and review)."""
    draws: dict[int, int] = {}

    def from_seed(cls, seed: str) -> FuzzDraw:
        card, reps = seed.split(":")
        return anki_draw(draws[int(card)], int(reps))

    monkeypatch.setattr(FuzzDraw, "from_seed", classmethod(from_seed))
    return draws
