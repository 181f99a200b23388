"""Character names that encode character ids, so a name in a URL finds its character.

A generated name is the character id, scrambled, written in two-letter syllables (a few of
them non-ASCII: `zé`, `jö`, `ñu`, `æl`). Decoding a lowercased name gives the id back, and
the id gives the account (or guild) it belongs to, so `/profile/wow/character/{realm}/{name}`
works for any of 100,000 accounts without generating them first. A handful of hand-picked
names (`Zéphyr`, `Ærendil`, ...) go to the first character of the first accounts.
"""

from __future__ import annotations

import unicodedata

SPECIAL_NAMES = (
    "Zéphyr", "Ærendil", "Ñandú", "Jörmungand", "Øyvind", "Çelik", "Léonie", "Brünhild",
)  # fmt: skip
_SYLLABLES = (*(c + v for c in "bdfghklmnprstvz" for v in "aeio"), "zé", "jö", "ñu", "æl")
_INDEX = {s: i for i, s in enumerate(_SYLLABLES)}
_BASE = len(_SYLLABLES)
_MIN_WIDTH = 5
_MAX_LETTERS = 12  # WoW's longest character name
_MUL = 0x2F5A3B17  # odd, so invertible modulo any power of 64
_ADD = 0x1D2C3B4A
_SPECIAL_KEYS: dict[str, int] = {}
assert _BASE == 64


def name_key(name: str) -> str:
    """The form names are compared in: NFC, Unicode casefolded."""
    return unicodedata.normalize("NFC", name).casefold()


def _width(value: int) -> int:
    width = _MIN_WIDTH
    while value >= _BASE**width:
        width += 1
    return width


def encode_id(char_id: int) -> str:
    """A capitalised name for a character id (10 letters for ids below 64**5)."""
    width = _width(char_id)
    modulus = _BASE**width
    value = (char_id * _MUL + _ADD) % modulus
    syllables: list[str] = []
    for _ in range(width):
        value, digit = divmod(value, _BASE)
        syllables.append(_SYLLABLES[digit])
    text = "".join(reversed(syllables))
    return text[0].upper() + text[1:]


def decode_name(name: str) -> int | None:
    """The character id a name stands for, or None when it is no generated name."""
    key = name_key(name)
    if key in _SPECIAL_KEYS:
        return _SPECIAL_KEYS[key]
    if len(key) % 2 or not 2 * _MIN_WIDTH <= len(key) <= _MAX_LETTERS:
        return None
    value = 0
    for i in range(0, len(key), 2):
        digit = _INDEX.get(key[i : i + 2])
        if digit is None:
            return None
        value = value * _BASE + digit
    width = len(key) // 2
    modulus = _BASE**width
    char_id = ((value - _ADD) * pow(_MUL, -1, modulus)) % modulus
    return char_id if _width(char_id) == width else None


def special_name(n: int, index: int) -> str | None:
    """The hand-picked name of account n's character `index`, if it has one."""
    if index == 0 and 1 <= n <= len(SPECIAL_NAMES):
        return SPECIAL_NAMES[n - 1]
    return None


def character_name(n: int, index: int, char_id: int) -> str:
    return special_name(n, index) or encode_id(char_id)


for _n, _name in enumerate(SPECIAL_NAMES, start=1):
    _SPECIAL_KEYS[name_key(_name)] = _n * 1000
