"""Random name suffixes, as upstream's utilrand.String: generateName and generated volume names."""

from __future__ import annotations

import random

#: upstream leaves out vowels and lookalikes so generated names never spell words
ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_rng = random.SystemRandom()


def random_suffix(length: int = 5) -> str:
    return "".join(_rng.choices(ALPHABET, k=length))
