"""What a corpus run is told: its settings, their defaults, and the engines that can run it.

Kept apart from the modules that do the work, so the CLI can show the defaults without importing them.

Examples
--------
>>> RunSettings("mini", ("bank",), PER_WORD, MAX_TOKENS, GROUP_SIZE, BATCH_SIZE, 0).as_dict()["keys"]
['bank']
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

PER_WORD = 100    # lines kept per target word
MAX_TOKENS = 64   # longer lines are not used (tokens, specials included)
GROUP_SIZE = 256  # lines per shard: the unit of resuming and of Ray tasks
BATCH_SIZE = 32   # lines per forward pass
ENGINES = ("local", "ray")


@dataclass(frozen=True)
class RunSettings:
    """Everything that changes what a run computes: two runs mix only when all of it is equal."""

    model: str                 # "minilm", "mini" or a mini model folder (absolute)
    keys: tuple[str, ...]      # target keys, as the model sees the words
    per_word: int              # lines kept per target
    max_tokens: int            # longer lines are not used (specials included)
    group_size: int            # lines per shard
    batch_size: int            # lines per forward pass
    seed: int                  # line ranking and random baseline words

    def as_dict(self) -> dict:
        """Plain JSON data (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}
