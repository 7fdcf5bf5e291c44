"""The documentation against the app, where a machine can tell (README.md and docs/*.md).

- Every ``flask --app wsgi <group> <command>`` the pages name exists, and every command of the
  app's own groups is named (``db`` is Flask-Migrate's: only what the pages name is checked).
- The configuration table of docs/operations.md lists exactly the fields of ``Settings``.
- The "Routes" table of docs/architecture.md lists exactly the app's URL rules, with their
  methods; that table is where every route, public or not, is documented. Every other path
  the pages name (``/sms/inbound``, ``/cameras/check/<number>``...) is one of those rules.
- Every file the pages name (``webapp/sms/worker.py``, ``relay/sessions.py``, ``texter.py``)
  exists.
- Links stay inside the repository and lead to files and headings that exist.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import click
import pytest
from flask import Flask
from flask.cli import cli as flask_cli

from webapp import create_app
from webapp.config import Settings

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OPERATIONS = ROOT / "docs" / "operations.md"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
# The app's own command groups are all documented; Flask-Migrate's ``db`` has dozens.
UNDOCUMENTED_GROUPS = {"db"}
# The first folders of paths on the machine rather than on the site.
FILE_SYSTEM = {"usr", "etc", "tmp", "var", "opt", "home", "srv", "proc"}
LOCAL_SITE = "http://127.0.0.1:5000"

COMMAND = re.compile(r"flask --app wsgi ([a-z][\w-]*)(?: ([a-z][\w-]*(?:\|[a-z][\w-]*)*))?")
# A path: "/" then anything up to a space or a backtick, where "<...>" may hold spaces.
PATH = re.compile(r"(?<![\w.:/~$\->])(/(?:[^\s`<>\"'()\[\]|*]|<[^<>\n]*>)*)")
LINK = re.compile(r"\]\(([^)\s]+)\)|<(https?://[^>\s]+)>|src=\"([^\"]+)\"")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*$", re.MULTILINE)
FILE = re.compile(r"`([\w./<>\-]*\.(?:py|html|js|yaml|txt|md|cfg|toml|po|pot))`")
TREES = ("webapp", "tests", "translations", "migrations", "bench", "docs")


@pytest.fixture(scope="module")
def docs_app(tmp_path_factory) -> Flask:
    """The app as development and tests build it (so with the development pages), with no
    database work: only its commands and URL rules are read."""
    folder = tmp_path_factory.mktemp("docs")
    return create_app(
        {
            "APP_ENV": "testing",
            "SECRET_KEY": "docs-" + "x" * 40,
            "ENCRYPTION_KEYS": "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyEhISE=",
            "DATABASE_URL": "sqlite:///" + str(folder / "unused.sqlite3"),
            "SMS_BACKEND": "outbox",
            "RATELIMIT_ENABLED": False,
        }
    )


def text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def section(page: Path, title: str) -> str:
    """The lines of ``page`` under the level-2 heading ``title``, up to the next one."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text(page), re.M | re.S)
    assert match, f"{page.name} has no section '## {title}'"
    return match.group(1)


def table_rows(block: str) -> list[list[str]]:
    """The body rows of the Markdown tables in ``block``, as lists of cells."""
    rows = []
    for line in block.splitlines():
        if not line.startswith("|") or re.match(r"^\|[\s\-|:]+\|$", line):
            continue
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return [row for row in rows if row[0] not in ("variable", "rule")]  # not the headers


def named_commands() -> dict[str, set[str]]:
    """Every ``flask --app wsgi`` command the pages name: {name or "group command": pages}."""
    named: dict[str, set[str]] = {}
    for page in PAGES:
        for group, subcommands in COMMAND.findall(text(page)):
            for sub in subcommands.split("|") if subcommands else [""]:
                named.setdefault(f"{group} {sub}".strip(), set()).add(page.name)
    return named


def test_every_command_named_in_the_docs_exists(docs_app):
    own, builtin = docs_app.cli.commands, flask_cli.commands
    wrong = []
    for name, pages in named_commands().items():
        group, _, sub = name.partition(" ")
        command = own.get(group) or builtin.get(group)
        if command is None:
            wrong.append(f"{name} ({', '.join(sorted(pages))}): no command {group!r}")
        elif isinstance(command, click.Group) and sub and sub not in command.commands:
            wrong.append(f"{name} ({', '.join(sorted(pages))}): {group} has no {sub!r}")
    assert not wrong, "the docs name commands the app does not have:\n" + "\n".join(wrong)


def test_every_command_of_the_app_is_named_in_the_docs(docs_app):
    named = named_commands()
    missing = [
        f"flask --app wsgi {group} {sub}"
        for group, command in docs_app.cli.commands.items()
        if group not in UNDOCUMENTED_GROUPS and isinstance(command, click.Group)
        for sub in command.commands
        if f"{group} {sub}" not in named
    ]
    assert not missing, "commands no page names:\n" + "\n".join(missing)
    assert "db upgrade" in named  # the one migration command operators need


def test_the_configuration_table_lists_exactly_the_settings():
    rows = table_rows(section(OPERATIONS, "Configuration"))
    documented: list[str] = []
    for row in rows:
        assert len(row) == 3 and row[1] and row[2], f"a row needs a default and a meaning: {row}"
        names = re.findall(r"`([A-Z][A-Z0-9_]+)`", row[0])
        assert names, f"a configuration row without a variable: {row}"
        documented += names
    settings, listed = {f.name for f in fields(Settings)}, set(documented)
    assert len(documented) == len(listed), "a setting is listed twice"
    assert not settings - listed, f"settings missing from the table: {settings - listed}"
    assert not listed - settings, f"listed but not settings: {listed - settings}"


def app_rules(app: Flask) -> dict[str, set[str]]:
    rules: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        rules.setdefault(rule.rule, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    return rules


def test_the_routes_table_lists_exactly_the_apps_rules(docs_app):
    documented: dict[str, set[str]] = {}
    for row in table_rows(section(ARCHITECTURE, "Routes")):
        rule = re.fullmatch(r"`([^`]+)`", row[0])
        assert rule, f"a route row must start with the rule in backticks: {row}"
        assert rule.group(1) not in documented, f"{rule.group(1)} is listed twice"
        documented[rule.group(1)] = {m.strip() for m in row[1].split(",")}
    actual = app_rules(docs_app)
    assert not actual.keys() - documented.keys(), (
        f"routes missing from docs/architecture.md: {sorted(actual.keys() - documented.keys())}"
    )
    assert not documented.keys() - actual.keys(), (
        f"documented rules the app does not have: {sorted(documented.keys() - actual.keys())}"
    )
    wrong = {r: (sorted(documented[r]), sorted(m)) for r, m in actual.items() if documented[r] != m}
    assert not wrong, f"methods differ (documented, actual): {wrong}"


def rule_pattern(rule: str) -> re.Pattern:
    """A rule as a regular expression that also accepts a placeholder ("X") for a variable."""
    pattern = ""
    for literal, converter in re.findall(r"([^<]*)(<[^>]*>)?", rule):
        pattern += re.escape(literal)
        if not converter:
            continue
        options = re.match(r"<any\(([^)]*)\):\w+>", converter)
        if options:
            words = [re.escape(w.strip()) for w in options.group(1).split(",")]
            pattern += "(?:" + "|".join([*words, "X"]) + ")"
        elif converter.startswith("<int:"):
            pattern += r"(?:\d+|X)"
        elif converter.startswith("<path:"):
            pattern += ".+"
        else:
            pattern += "[^/]+"
    return re.compile(pattern)


def named_paths() -> dict[str, set[str]]:
    """Every site path the pages name outside the routes table, placeholders as "X"."""
    found: dict[str, set[str]] = {}
    for page in PAGES:
        body = text(page)
        if page == ARCHITECTURE:
            body = body.replace(section(ARCHITECTURE, "Routes"), "")
        body = body.replace(LOCAL_SITE, "")
        for raw in PATH.findall(body):
            if raw.split("/")[1] in FILE_SYSTEM or not re.match(r"/(\w|$)", raw):
                continue
            path = re.split(r"[?#]", raw)[0].rstrip(".,;:")
            path = re.sub(r"<[^>]*>|\{[^}]*\}|…", "X", path)
            found.setdefault(path, set()).add(page.name)
    return found


def test_every_path_named_in_the_docs_is_a_route(docs_app):
    patterns = [rule_pattern(rule) for rule in app_rules(docs_app)]
    unknown = {
        path: sorted(pages)
        for path, pages in named_paths().items()
        if not any(p.fullmatch(path) for p in patterns)
    }
    assert not unknown, f"paths the app has no route for: {unknown}"


def file_exists(name: str) -> bool:
    """Whether the repository has the file ``name``: a path from the repository's root or
    from ``webapp/`` (``sms/worker.py``), a path inside a feature package (``relay/sessions.py``),
    or a bare name found anywhere in the source trees (``texter.py``)."""
    if "<" in name:  # a placeholder: webapp/<feature>/routes.py
        return True
    if (ROOT / name).exists() or (ROOT / "webapp" / name).exists():
        return True
    if "/" in name:
        return any(ROOT.glob(f"webapp/*/{name}"))
    return any(any((ROOT / tree).rglob(name)) for tree in TREES)


def test_every_file_named_in_the_docs_exists():
    missing = [
        f"{page.name}: {name}"
        for page in PAGES
        for name in sorted(set(FILE.findall(text(page))))
        if not name.startswith("/") and not file_exists(name)
    ]
    assert not missing, "the docs name files the repository does not have:\n" + "\n".join(missing)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    plain = re.sub(r"[`*_]", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", plain).replace(" ", "-")


def test_links_stay_in_the_repository_and_lead_somewhere():
    wrong = []
    for page in PAGES:
        for groups in LINK.findall(text(page)):
            target = next(g for g in groups if g)
            if target.startswith(("http://", "https://")):
                if not target.startswith(LOCAL_SITE):
                    wrong.append(f"{page.name}: {target} leaves the repository")
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.is_relative_to(ROOT) or not linked.exists():
                wrong.append(f"{page.name}: {target} is not a file of the repository")
            elif anchor and anchor not in {slug(h) for h in HEADING.findall(text(linked))}:
                wrong.append(f"{page.name}: {target} names no heading of {linked.name}")
    assert not wrong, "\n".join(wrong)
