"""Translation catalogs: up to date, complete, and faithful to every placeholder."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from webapp.i18n import LANGUAGES

from ..support import ROOT

POT = ROOT / "translations" / "messages.pot"
LOCALES = [lang.code for lang in LANGUAGES if lang.code != "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]")
HTML_TAG = re.compile(r"</?[a-z]+[^>]*>")


def read(path: Path):
    with path.open("rb") as fh:
        return read_po(fh)


def msgids(catalog) -> set:
    return {m.id for m in catalog if m.id}


def test_messages_pot_is_up_to_date(tmp_path):
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable, "-m", "babel.messages.frontend", "-q", "extract",
            "-F", "babel.cfg", "-k", "_l", "--no-location",
            "-o", str(fresh), ".",
        ],
        cwd=ROOT,
        check=True,
    )  # fmt: skip
    missing = msgids(read(fresh)) - msgids(read(POT))
    stale = msgids(read(POT)) - msgids(read(fresh))
    assert not missing, f"run `make translations-update`: not in messages.pot: {missing}"
    assert not stale, f"run `make translations-update`: no longer in the code: {stale}"


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_is_complete_and_not_fuzzy(locale):
    catalog = read(ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po")
    assert msgids(catalog) == msgids(read(POT)), "run `make translations-update`"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(("fuzzy", message.id))
        if not all(strings):
            problems.append(("empty", message.id))
    assert not problems


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_every_placeholder_and_tag(locale):
    catalog = read(ROOT / "translations" / locale / "LC_MESSAGES" / "messages.po")
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = sorted(PLACEHOLDER.findall(ids[-1]))
        tags = sorted(t.split()[0].rstrip(">") for t in HTML_TAG.findall(ids[-1]))
        for string in strings:
            if sorted(PLACEHOLDER.findall(string)) != expected:
                problems.append(("placeholder", message.id, string))
            if sorted(t.split()[0].rstrip(">") for t in HTML_TAG.findall(string)) != tags:
                problems.append(("html", message.id, string))
    assert not problems


def test_the_placeholder_check_catches_a_dropped_placeholder(tmp_path):
    """The check above would fail on a translation that loses or renames a placeholder."""
    assert sorted(PLACEHOLDER.findall("code %(code)s")) != sorted(PLACEHOLDER.findall("code"))
    assert sorted(PLACEHOLDER.findall("%(code)s")) != sorted(PLACEHOLDER.findall("%(kod)s"))
