"""Reading a text as a command, in any shipped language.

Matching ignores case, accents, punctuation and extra spaces: "cámara no", "CAMARA  NO!" and
"Camara no." are the same command. Each keyword also tells which language the sender used,
so people without an account get replies in the language they wrote in.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

# command -> locale -> keywords (as people type them; normalised below)
KEYWORDS: dict[str, dict[str, list[str]]] = {
    "help": {
        "en": ["HELP", "INFO"],
        "es": ["AYUDA"],
        "pl": ["POMOC"],
        "zh_Hans": ["帮助", "帮忙"],
        "ar": ["مساعدة"],
    },
    # Twilio's opt-out words (all answered with the STOP confirmation), and translations.
    "stop": {
        "en": ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"],
        "es": ["ALTO", "PARAR", "BAJA", "CANCELAR"],
        "pl": ["KONIEC", "WYPISZ"],
        "zh_Hans": ["退订", "停止"],
        "ar": ["توقف", "إيقاف", "الغاء"],
    },
    "start": {
        "en": ["START", "UNSTOP", "YES"],
        "es": ["INICIAR", "ALTA"],
        "pl": ["WZNOW", "ZACZNIJ"],
        "zh_Hans": ["开始", "订阅"],
        "ar": ["ابدأ", "بدء"],
    },
    "status": {
        "en": ["STATUS"],
        "es": ["ESTADO"],
        "pl": ["STAN"],
        "zh_Hans": ["状态"],
        "ar": ["الحالة", "حالة"],
    },
    "confirm": {
        "en": ["CONFIRM"],
        "es": ["CONFIRMAR"],
        "pl": ["POTWIERDZ", "POTWIERDZAM"],
        "zh_Hans": ["确认"],
        "ar": ["تأكيد", "أكد"],
    },
    "camera_on": {
        "en": ["CAMERA ON"],
        "es": ["CAMARA SI"],
        "pl": ["KAMERA TAK"],
        "zh_Hans": ["摄像头 开", "摄像头开"],
        "ar": ["كاميرا نعم", "الكاميرا نعم"],
    },
    "camera_off": {
        "en": ["CAMERA OFF"],
        "es": ["CAMARA NO"],
        "pl": ["KAMERA NIE"],
        "zh_Hans": ["摄像头 关", "摄像头关"],
        "ar": ["كاميرا لا", "الكاميرا لا"],
    },
    "lang": {
        "en": ["LANG", "LANGUAGE"],
        "es": ["IDIOMA"],
        "pl": ["JEZYK"],
        "zh_Hans": ["语言"],
        "ar": ["اللغة", "لغة"],
    },
    # The footage-request answers take a code: "YES 4821", "SI 4821", "NO 4821".
    "answer_yes": {
        "en": ["YES"],
        "es": ["SI"],
        "pl": ["TAK"],
        "zh_Hans": ["是", "同意"],
        "ar": ["نعم"],
    },
    "answer_no": {
        "en": ["NO"],
        "es": ["NO"],
        "pl": ["NIE"],
        "zh_Hans": ["否", "不同意"],
        "ar": ["لا"],
    },
    "emergency": {
        "en": ["911", "EMERGENCY", "SOS"],
        "es": ["EMERGENCIA"],
        "pl": ["POMOCY", "NAGLE"],
        "zh_Hans": ["紧急", "救命"],
        "ar": ["طوارئ", "النجدة"],
    },
}

# LANG takes a language, by code or by its own name.
LANGUAGE_NAMES = {
    "EN": "en", "ENGLISH": "en", "INGLES": "en",
    "ES": "es", "ESPANOL": "es", "SPANISH": "es",
    "PL": "pl", "POLSKI": "pl", "POLISH": "pl",
    "ZH": "zh_Hans", "中文": "zh_Hans", "简体中文": "zh_Hans", "汉语": "zh_Hans",
    "CHINESE": "zh_Hans",
    "AR": "ar", "العربية": "ar", "عربي": "ar", "ARABIC": "ar",
}  # fmt: skip
# Commands whose keyword must be the whole text ("YES" alone is START; "YES 12" an answer).
WHOLE_TEXT = {"help", "stop", "start", "status", "confirm", "camera_on", "camera_off"}
WITH_CODE = {"answer_yes", "answer_no"}
CODE = re.compile(r"^[A-Z0-9]{4,8}$")
_NOT_KEPT_ASCII = re.compile(r"[^A-Za-z0-9#]")


def normalise(text: str) -> str:
    """Upper case, no accents, punctuation as spaces, single spaces."""
    if text.isascii():  # most texts: no accents, and only letters and digits kept (and "#")
        return " ".join(_NOT_KEPT_ASCII.sub(" ", text).upper().split())
    return _normalise_unicode(text)


def _normalise_unicode(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    kept = []
    for ch in decomposed:
        category = unicodedata.category(ch)
        if category == "Mn":  # combining accents (not Arabic hamza forms: NFKC below)
            continue
        kept.append(" " if category[0] in "PSZC" and ch not in "#" else ch)
    folded = unicodedata.normalize("NFKC", "".join(kept)).upper()
    return " ".join(folded.split())


def _index() -> dict[str, list[tuple[str, str]]]:
    table: dict[str, list[tuple[str, str]]] = {}
    for command, by_locale in KEYWORDS.items():
        for locale, words in by_locale.items():
            for word in words:
                table.setdefault(normalise(word), []).append((command, locale))
    return table


_KEYWORDS = _index()
# Chinese is written without spaces ("语言中文", "确认"): such keywords may be glued to what
# follows. Longest first, so "摄像头开" wins over a shorter prefix.
_GLUED = sorted((k for k in _KEYWORDS if not k.isascii() and " " not in k), key=len, reverse=True)


def _unglue(words: list[str]) -> list[str]:
    first = words[0]
    if first in _KEYWORDS or first.isascii():  # (every glued keyword has a non-ASCII letter)
        return words
    for keyword in _GLUED:
        if first.startswith(keyword) and len(first) > len(keyword):
            return [keyword, first[len(keyword) :], *words[1:]]
    return words


class Command(NamedTuple):  # (immutable, and quicker to build than a frozen dataclass)
    name: str  # a KEYWORDS key, or "unknown"
    locale: str | None = None  # the language of the keyword used, when it tells
    argument: str = ""  # what follows the keyword (a code, a language, a message)


def parse(text: str) -> Command:
    words = normalise(text or "").split(" ")
    if words == [""]:
        return Command("unknown")
    words = _unglue(words)
    # Two-word keywords first ("CAMARA NO"), then one word.
    for size in (2, 1):
        if len(words) < size:
            continue
        key = " ".join(words[:size])
        rest = " ".join(words[size:])
        for command, locale in _KEYWORDS.get(key, []):
            if command in WHOLE_TEXT and rest:
                continue
            if command in WITH_CODE and not CODE.match(rest):
                continue
            if command == "lang" and rest and rest not in LANGUAGE_NAMES:
                return Command("lang", locale, "?")
            return Command(command, locale, rest)
    # A language's own name alone switches to it ("ESPAÑOL", "中文").
    if (
        len(words) == 1
        and words[0] in LANGUAGE_NAMES
        and not (
            len(words[0]) == 2 and words[0].isascii()  # "ES" alone is not a request
        )
    ):
        return Command("lang", None, words[0])
    return Command("unknown", None, " ".join(words))


def language_of(argument: str) -> str | None:
    return LANGUAGE_NAMES.get(argument)
