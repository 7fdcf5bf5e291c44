"""Languages: the one place that decides which locale a request is served in.

``get_locale()`` looks, in order, at:

1. an explicit ``?lang=xx`` in the URL (remembered in the session for the next pages);
2. the signed-in user's saved choice (account settings, or ``LANG`` by SMS);
3. the choice remembered in the session;
4. the browser's ``Accept-Language`` header;
5. the default locale (``DEFAULT_LOCALE``, ``en``).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, has_request_context, request, session
from flask_babel import get_locale as babel_locale
from flask_login import current_user


@dataclass(frozen=True)
class Language:
    code: str  # the Babel/gettext code used for catalogs
    tag: str  # the BCP 47 tag for <html lang> and Accept-Language
    name: str  # the language's own name, for the switcher
    rtl: bool = False


LANGUAGES: tuple[Language, ...] = (
    Language("en", "en", "English"),
    Language("es", "es", "Español"),
    Language("pl", "pl", "Polski"),
    Language("zh_Hans", "zh-Hans", "简体中文"),
    Language("ar", "ar", "العربية", rtl=True),
)
BY_CODE = {lang.code: lang for lang in LANGUAGES}
LOCALE_CODES = tuple(BY_CODE)
# Besides codes, accept the BCP 47 tags and common spellings people type.
_ALIASES = {
    **{lang.tag.lower(): lang.code for lang in LANGUAGES},
    **{lang.code.lower(): lang.code for lang in LANGUAGES},
    "zh": "zh_Hans",
    "zh-cn": "zh_Hans",
    "zh_cn": "zh_Hans",
    "zh-sg": "zh_Hans",
}


def normalise(code: str | None) -> str | None:
    """The supported locale code for ``code`` (``zh-CN`` -> ``zh_Hans``), or None."""
    if not code:
        return None
    return _ALIASES.get(code.strip().lower())


def get_locale() -> str:
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    explicit = normalise(request.args.get("lang"))
    if explicit:
        # Only the cookie-held display preference changes; nothing is written server-side.
        session["lang"] = explicit
        return explicit
    if current_user and current_user.is_authenticated and current_user.locale in BY_CODE:
        return current_user.locale
    remembered = normalise(session.get("lang"))
    if remembered:
        return remembered
    best = request.accept_languages.best_match([lang.tag for lang in LANGUAGES])
    return normalise(best) or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> Language:
    return BY_CODE.get(str(babel_locale()), BY_CODE["en"])
