"""The CSV export of a search: the same rows as the page, for a case file or a GIS.

Columns: ``rank`` (the number on the map), ``distance_m`` (to the nearest 10 m), ``kind``
(``home`` or ``business``), ``camera_count``, ``views`` (the stored keys, like ``street``,
separated by ``;``: the same in every language), ``retention_days``, and ``latitude`` and
``longitude`` rounded to ``CSV_PLACES`` decimals (about 100 m). A file leaves the audited
system and is kept and passed on, so it says which block a camera is on, not which house;
the owner's address comes only with their agreement to a footage request.

Every text cell that a spreadsheet would read as a formula (starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) is prefixed with ``'``; a plain number is not a
formula, so a negative longitude stays a number.
"""

from __future__ import annotations

import csv
import io
import re

from .map import rounded_distance_m
from .services import SearchResult

CSV_PLACES = 3
COLUMNS = ("rank", "distance_m", "kind", "camera_count", "views", "retention_days",
           "latitude", "longitude")  # fmt: skip
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def safe_cell(value):
    """``value`` as a spreadsheet reads it literally (OWASP's advice on CSV injection)."""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def to_csv(result: SearchResult) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for rank, hit in enumerate(result.hits, start=1):
        row = (
            rank,
            rounded_distance_m(hit.distance_m),
            hit.kind,
            hit.camera_count,
            ";".join(hit.views),
            hit.retention_days,
            f"{hit.latitude:.{CSV_PLACES}f}",
            f"{hit.longitude:.{CSV_PLACES}f}",
        )
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue()


def filename(case_number: str) -> str:
    """``cameras-<case number>.csv``, with only letters, digits and dashes kept."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", case_number).strip("-")[:40]
    return f"cameras-{slug or 'search'}.csv"
