"""Reading a text as a command, in any shipped language (the words: ``keywords``).

Matching ignores case, accents, punctuation and extra spaces: "cámara no", "CAMARA  NO!" and
"Camara no." are the same command. The rules, in order (docs/sms.md):

1. an emergency word or phrase anywhere in the text ("please help me", "帮助我", "نجدة", 🆘);
2. a footage answer: YES/NO and a code, or the word alone (then the code is asked for);
3. a command that is the whole text (HELP, STOP, STATUS, CAMERA OFF...), LANG and a language;
4. an opt-out word in a short text ("stop texting me", "please stop", "opt out");
5. anything else is not understood, in the language it seems written in.

Each keyword also tells which language the sender used, so that people without an account
get replies in the language they wrote in.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from .keywords import (
    ANSWERS,
    EMERGENCY,
    EMERGENCY_SYMBOLS,
    KEYWORDS,
    LANG_KEYWORDS,
    LANGUAGE_HINTS,
    LANGUAGE_NAMES,
    OPT_OUT_WORDS,
    SHORT_TEXT,
)

CODE = re.compile(r"^[0-9]{4,8}$")  # a footage request's code (footage.services: 4 digits)
# Scripts written without spaces between words, or with words glued together: their
# keywords match anywhere in the text.
_UNSPACED = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u3400-\u9fff]")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f]")
_HAN = re.compile(r"[\u3400-\u9fff]")
_POLISH = re.compile(r"[ąćęłńśźżĄĆĘŁŃŚŹŻ]")
_SPANISH = re.compile(r"[ñÑ¿¡áéíúÁÉÍÚ]")
_NOT_DECOMPOSED = str.maketrans({"Ł": "L", "ł": "l"})  # NFKD leaves Ł whole


class Command(NamedTuple):
    name: str  # a command ("help", "stop", "answer_yes", "emergency"...) or "unknown"
    locale: str | None = None  # the language the text was written in, when it tells
    argument: str = ""  # what follows the keyword (a code, a language); "" for a bare answer


def normalise(text: str) -> str:
    """Upper case, no accents, punctuation and symbols as spaces (but "#"), single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_NOT_DECOMPOSED))
    kept = []
    for ch in decomposed:
        category = unicodedata.category(ch)
        if category == "Mn":  # combining accents, and Arabic's hamza and vowel marks
            continue
        kept.append(" " if category[0] in "PSZC" and ch != "#" else ch)
    folded = unicodedata.normalize("NFKC", "".join(kept)).upper()
    return " ".join(folded.split())


class _Phrases:
    """Words and phrases of several languages, found in a text: Latin-script ones as whole
    words, the others anywhere."""

    def __init__(self, by_locale: dict[str, list[str]]):
        self.spaced: list[tuple[list[str], str]] = []
        self.unspaced: list[tuple[str, str]] = []
        for locale, phrases in by_locale.items():
            for phrase in phrases:
                key = normalise(phrase)
                if _UNSPACED.search(key):
                    self.unspaced.append((key, locale))
                else:
                    self.spaced.append((key.split(" "), locale))

    def find(self, words: list[str], text: str) -> tuple[str, str] | None:
        """The first phrase found (its words, its locale), or None."""
        for key, locale in self.unspaced:
            if key in text:
                return key, locale
        for phrase, locale in self.spaced:
            size = len(phrase)
            for start in range(len(words) - size + 1):
                if words[start : start + size] == phrase:
                    return " ".join(phrase), locale
        return None


def _table(by_command: dict[str, dict[str, list[str]]]) -> dict[str, list[tuple[str, str]]]:
    table: dict[str, list[tuple[str, str]]] = {}
    for command, by_locale in by_command.items():
        for locale, words in by_locale.items():
            for word in words:
                table.setdefault(normalise(word), []).append((command, locale))
    return table


_WHOLE = _table(KEYWORDS)
_ANSWERS = _table(ANSWERS)
_LANG = _table({"lang": LANG_KEYWORDS})
_EMERGENCY = _Phrases(EMERGENCY)
_OPT_OUT = _Phrases(OPT_OUT_WORDS)
_HINTS = {locale: _Phrases({locale: words}) for locale, words in LANGUAGE_HINTS.items()}
# Chinese is written without spaces ("语言中文", "是4821"): such keywords may be glued to what
# follows. Longest first, so "摄像头开" wins over a shorter prefix.
_GLUED = sorted(
    (k for k in (*_WHOLE, *_ANSWERS, *_LANG) if _HAN.search(k) and " " not in k),
    key=len,
    reverse=True,
)


def _unglue(words: list[str]) -> list[str]:
    first = words[0]
    if first in _WHOLE or first in _ANSWERS or first in _LANG or not _HAN.search(first):
        return words
    for keyword in _GLUED:
        if first.startswith(keyword):
            return [keyword, first[len(keyword) :], *words[1:]]
    return words


def parse(text: str) -> Command:
    """The command a text carries (see the module's rules)."""
    text = text or ""
    normalised = normalise(text)
    words = normalised.split(" ") if normalised else []
    found = _EMERGENCY.find(words, normalised)
    if found is not None or any(symbol in text for symbol in EMERGENCY_SYMBOLS):
        return Command("emergency", found[1] if found else guess_locale(text, words))
    if not words:
        return Command("unknown", guess_locale(text, words))
    words = _unglue(words)
    first, rest = words[0], words[1:]

    for command, locale in _ANSWERS.get(first, []):
        if rest and CODE.match(rest[0]):
            return Command(command, locale, rest[0])
        if not (rest and _OPT_OUT.find(rest, " ".join(rest))):  # "No stop" opts out below
            return Command(command, locale, "")

    for size in (2, 1):  # two-word keywords first ("CAMARA NO")
        if len(words) == size:
            matches = _WHOLE.get(" ".join(words))
            if matches:
                command, locale = matches[0]
                return Command(command, locale)

    for _, locale in _LANG.get(first, []):
        language = " ".join(rest)
        return Command("lang", locale, language if language in LANGUAGE_NAMES else "?")
    # A language's own name alone switches to it ("ESPAÑOL", "中文"); "ES" alone does not.
    if len(words) == 1 and first in LANGUAGE_NAMES and not (len(first) == 2 and first.isascii()):
        return Command("lang", None, first)

    if len(words) <= SHORT_TEXT:
        opt_out = _OPT_OUT.find(words, normalised)
        if opt_out is not None:
            return Command("stop", opt_out[1])
    return Command("unknown", guess_locale(text, words), " ".join(words))


def guess_locale(text: str, words: list[str]) -> str | None:
    """The language a text seems written in, from its letters, then from its words; None
    when nothing tells (English, a number, an emoji)."""
    if _ARABIC.search(text):
        return "ar"
    if _HAN.search(text):
        return "zh_Hans"
    if _POLISH.search(text):
        return "pl"
    if _SPANISH.search(text):
        return "es"
    for locale, hints in _HINTS.items():
        if hints.find(words, " ".join(words)) is not None:
            return locale
    return None


def language_of(argument: str) -> str | None:
    return LANGUAGE_NAMES.get(argument)
