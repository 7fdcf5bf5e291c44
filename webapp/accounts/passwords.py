"""The shipped list of common passwords (see webapp/data/common-passwords.txt)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

MIN_LENGTH = 10
MAX_LENGTH = 128


@cache
def _common() -> frozenset[str]:
    text = files("webapp").joinpath("data/common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def is_common(password: str) -> bool:
    return password.strip().lower() in _common()
