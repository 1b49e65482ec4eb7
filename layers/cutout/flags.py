"""The words that mean true and false, wherever a flag arrives as text."""

from __future__ import annotations

TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")


def parse_flag(text: str) -> bool | None:
    """True or False for a flag word (any case, trimmed); None for anything else."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None
