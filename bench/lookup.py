"""Phone look-up benchmark: ``make bench-lookup`` or ``python -m bench.lookup``.

For each database (SQLite, PostgreSQL) it builds a fresh database with the real migrations,
loads ``--rows`` residents (1,000,000 by default), each an account with a profile, then times
``--lookups`` random look-ups (1,000) in an app context, each in its own session as in a
request: ``find_profile`` (webapp/dispatch/lookup.py) and, when it finds one,
``responder_view`` (decrypting every field). It prints p50/p95/max against the budget (p95
under 10 ms), the query plans of the look-up's queries (to show they are index look-ups, never
a scan), and, apart, the whole audited console look-up (``lookup_and_show``: the look-up row,
two audit rows, the commit).

The data (fixed seed): 98% of the accounts' numbers verified; profiles 70% active, 10% stale,
8% inactive, 6% not shared, 6% never confirmed; 10% with a further verified number (and 2%
with an unverified one); 30% with the home's free-text fields filled, 25% with one or two
household members (half with medical answers), 30% with an emergency contact, 20% a vehicle,
15% a pet. Encrypted fields hold a small value encrypted once per column (the column is the
cipher's associated data), so decryption costs what it costs in production.

Look-ups: 80% the number of a random account, 10% a random further number, 10% a number that
is in no table. Loading: SQLite, one transaction of executemany batches; PostgreSQL, COPY,
then VACUUM ANALYZE.

    python -m bench.lookup [--rows N] [--database sqlite|postgresql|both] [--lookups 1000]

PostgreSQL: the database ``--pg-db`` (default ``lookup_bench``) on ``--pg-url``'s server is
dropped and recreated on every run, and dropped at the end unless ``--keep``. The exit status
is 0 even when the latency target is missed (it is only reported); 1 if a check fails.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from bench.camera_search import drop_postgres
from bench.sms_load import fresh_postgres, load_average
from webapp import create_app
from webapp.config import normalise_database_url
from webapp.crypto import EncryptedText
from webapp.dispatch.lookup import find_profile, lookup_and_show, responder_view
from webapp.extensions import db
from webapp.models import (
    EmergencyContact,
    HouseholdMember,
    Pet,
    Profile,
    ProfilePhone,
    Role,
    User,
    Vehicle,
)

TARGET_P95_MS = 10.0
SEED = 20261122
BATCH = 50_000
AREAS = (312, 773, 872, 630, 708, 847, 224, 331, 779, 815)
EXCHANGES = [e for e in range(220, 1000) if e % 100 != 11 and e != 555]
DAY = timedelta(days=1)
BENCH_KEY = "YmVuY2gtb25seSBrZXk6IG5ldmVyIHByb2R1Y3Rpb24="
FULL_LOOKUPS = 300  # the whole audited look-up writes rows: fewer of them

SAMPLE = {
    "profiles": {"bedrooms": "Back of the flat", "access_notes": "Lock box 4321 by the side door",
                 "hazards": "Oxygen tanks in the bedroom", "utility_shutoffs": "Basement, left",
                 "notes": "Ring twice"},
    "household_members": {"name": "Zofia Nowak", "description": "Short, grey hair",
                          "communication": None, "medical_conditions": "Type 2 diabetes",
                          "medications": "Metformin 500 mg", "allergies": "Penicillin",
                          "blood_type": "AB-", "mental_health": None, "disabilities": "Walker",
                          "equipment": "Home oxygen", "advance_directive": "DNR on the fridge",
                          "vaccinations": "Flu 2026"},
    "emergency_contacts": {"name": "Ana Nowak"},
    "pets": {"notes": "Friendly"},
}  # fmt: skip


def phone(n: int) -> str:
    """The n-th number of a large supply of distinct, valid Chicago-area numbers."""
    area = AREAS[n % len(AREAS)]
    rest = n // len(AREAS)
    return f"+1{area}{EXCHANGES[rest // 10_000]}{rest % 10_000:04d}"


# -- the data ---------------------------------------------------------------------------------


class Data:
    """Every table's rows for ``rows`` residents, in batches, the same for the same seed."""

    def __init__(self, rows: int, now: datetime, ciphers: dict[str, dict[str, str]]):
        self.rows = rows
        self.now = now
        self.enc = ciphers
        self.extra_phone_owner: dict[int, int] = {}  # phone index -> profile id (verified)

    def tables(self) -> dict[str, Iterator[list[dict]]]:
        return {
            "users": self.users(),
            "profiles": self.profiles(),
            "household_members": self.members(),
            "emergency_contacts": self.contacts(),
            "vehicles": self.vehicles(),
            "pets": self.pets(),
            "profile_phones": self.phones(),
        }

    def _batched(self, rows: Iterator[dict]) -> Iterator[list[dict]]:
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def users(self):
        rng = random.Random(SEED)
        now = self.now

        def rows():
            for i in range(1, self.rows + 1):
                yield {"id": i, "phone": phone(i), "password_hash": "!bench-no-sign-in",
                       "locale": ("en", "es", "pl", "zh_Hans", "ar")[i % 5],
                       "role": Role.RESIDENT.value,
                       "phone_verified_at": now if rng.random() < 0.98 else None,
                       "created_at": now, "failed_sign_ins": 0}  # fmt: skip
            yield {"id": self.rows + 1, "phone": phone(0), "password_hash": "!bench-no-sign-in",
                   "locale": "en", "role": Role.DISPATCHER.value, "phone_verified_at": now,
                   "created_at": now, "failed_sign_ins": 0}  # fmt: skip

        return self._batched(rows())

    def profiles(self):
        rng = random.Random(SEED + 1)
        now, enc = self.now, self.enc["profiles"]

        def rows():
            for i in range(1, self.rows + 1):
                r = rng.random()
                if r < 0.70:
                    confirmed = now - rng.uniform(0, 180) * DAY
                elif r < 0.80:
                    confirmed = now - rng.uniform(185, 210) * DAY
                elif r < 0.88:
                    confirmed = now - rng.uniform(215, 600) * DAY
                else:
                    confirmed = None if r >= 0.94 else now - rng.uniform(0, 180) * DAY
                filled = rng.random() < 0.30
                row = {"id": i, "user_id": i, "street": f"{100 + i % 9000} N State St",
                       "unit": None, "city": "Chicago", "state": "IL", "zip_code": "60602",
                       "building_type": "apartment" if i % 3 else "house", "floor": None,
                       "share_with_911": not 0.88 <= r < 0.94, "emergency_planning": False,
                       "confirmed_at": confirmed, "created_at": now, "updated_at": now}  # fmt: skip
                for name in SAMPLE["profiles"]:
                    row[name] = enc[name] if filled else None
                yield row

        return self._batched(rows())

    def _children(self, seed: int, share: float, most: int, make) -> Iterator[list[dict]]:
        rng = random.Random(seed)

        def rows():
            next_id = 1
            for profile_id in range(1, self.rows + 1):
                if rng.random() >= share:
                    continue
                for _ in range(1 + int(rng.random() * most)):
                    yield {"id": next_id, "profile_id": profile_id, **make(rng, profile_id)}
                    next_id += 1

        return self._batched(rows())

    def members(self):
        enc = self.enc["household_members"]

        def make(rng, _):
            medical = rng.random() < 0.5
            return {**{k: (enc[k] if medical or k == "name" else None) for k in enc},
                    "relationship": "self", "birth_year": 1930 + int(rng.random() * 90),
                    "language": "Polish" if rng.random() < 0.1 else None,
                    "interpreter_needed": rng.random() < 0.05}  # fmt: skip

        return self._children(SEED + 2, 0.25, 2, make)

    def contacts(self):
        name = self.enc["emergency_contacts"]["name"]
        return self._children(SEED + 3, 0.30, 1, lambda rng, i: {
            "name": name, "relationship": "child", "phone": "+17735550100", "language": None,
        })  # fmt: skip

    def vehicles(self):
        return self._children(SEED + 4, 0.20, 1, lambda rng, i: {
            "make": "Toyota", "model": "Corolla", "colour": "red", "plate": f"AB {i % 1000}",
        })  # fmt: skip

    def pets(self):
        notes = self.enc["pets"]["notes"]
        return self._children(SEED + 5, 0.15, 1, lambda rng, i: {
            "name": "Reks", "kind": "dog", "service_animal": rng.random() < 0.1, "notes": notes,
        })  # fmt: skip

    def phones(self):
        def make(rng, profile_id):
            n = self.rows + 1 + profile_id  # numbers no account uses
            verified = rng.random() < 10 / 12
            if verified:
                self.extra_phone_owner[n] = profile_id
            return {"phone": phone(n), "verified_at": self.now if verified else None,
                    "created_at": self.now}  # fmt: skip

        return self._children(SEED + 6, 0.12, 1, make)


def encrypted_samples() -> dict[str, dict[str, str]]:
    """Each sample value encrypted once for its column (inside an app context)."""
    cipher = current_app.extensions["field_cipher"]
    return {
        table: {
            column: cipher.encrypt(value, f"{table}.{column}") if value else None
            for column, value in values.items()
        }
        for table, values in SAMPLE.items()
    }


# -- loading ----------------------------------------------------------------------------------

MODELS = {"users": User, "profiles": Profile, "household_members": HouseholdMember,
          "emergency_contacts": EmergencyContact, "vehicles": Vehicle, "pets": Pet,
          "profile_phones": ProfilePhone}  # fmt: skip


def _processors(table: sa.Table, dialect) -> dict[str, object]:
    """Bind conversions (datetimes, booleans) as the ORM does them; never the cipher's: the
    values are encrypted already."""
    out = {}
    for column in table.c:
        if isinstance(column.type, EncryptedText):
            continue
        proc = column.type.bind_processor(dialect)
        if proc is not None:
            out[column.name] = proc
    return out


def load_sqlite(engine: sa.Engine, data: Data) -> dict[str, int]:
    counts = {}
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA cache_size = -1000000")  # loading only
        for name, batches in data.tables().items():
            table = MODELS[name].__table__
            procs = _processors(table, engine.dialect)
            counts[name] = 0
            for batch in batches:
                columns = list(batch[0])
                sql = (f"INSERT INTO {name} ({', '.join(columns)}) "  # noqa: S608
                       f"VALUES ({', '.join('?' * len(columns))})")  # fmt: skip
                conn.exec_driver_sql(
                    sql,
                    [tuple(procs[c](r[c]) if c in procs else r[c] for c in columns) for r in batch],
                )
                counts[name] += len(batch)
    return counts


def _copy_field(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def load_postgres(engine: sa.Engine, data: Data) -> dict[str, int]:
    counts = {}
    raw = engine.raw_connection()
    try:
        pg = raw.driver_connection
        with pg.cursor() as cur:
            for name, batches in data.tables().items():
                first = next(batches, None)
                counts[name] = 0
                if first is None:
                    continue
                columns = list(first[0])
                with cur.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                    for batch in itertools.chain([first], batches):
                        text = "".join(
                            "\t".join(_copy_field(r[c]) for c in columns) + "\n" for r in batch
                        )
                        copy.write(text.encode())
                        counts[name] += len(batch)
        pg.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")
    return counts


# -- timing -----------------------------------------------------------------------------------


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def sample_numbers(rows: int, extra: dict[int, int], count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    extras = sorted(extra)
    numbers = []
    for _ in range(count):
        r = rng.random()
        if r < 0.8:
            numbers.append(phone(1 + int(rng.random() * rows)))
        elif r < 0.9 and extras:
            numbers.append(phone(extras[int(rng.random() * len(extras))]))
        else:
            numbers.append(phone(3 * rows + int(rng.random() * rows)))  # in no table
    return numbers


def time_lookups(numbers: list[str]) -> tuple[list[float], list[float], int]:
    """find_profile + responder_view per number, each in its own session as in a request.
    Returns the wall-clock times, this process's CPU times (in ms) and how many were found:
    on a busy machine the CPU time shows what the work itself costs."""
    timings, cpu, found = [], [], 0
    for number in numbers:
        start, start_cpu = time.perf_counter(), time.thread_time()
        profile = find_profile(number)
        if profile is not None:
            responder_view(profile)
            found += 1
        timings.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
        db.session.remove()
    return timings, cpu, found


def time_full_lookups(numbers: list[str], dispatcher_id: int) -> list[float]:
    timings = []
    for number in numbers:
        start = time.perf_counter()
        dispatcher = db.session.get(User, dispatcher_id)
        lookup_and_show(number, "BENCH-1", dispatcher=dispatcher, channel="web")
        timings.append((time.perf_counter() - start) * 1000)
        db.session.remove()
    return timings


def show_plans(engine: sa.Engine, kind: str, numbers: list[str]) -> bool:
    """Print the plans of the queries a found and a not-found look-up send; True when each
    is answered by index look-ups, with no scan of a table."""
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        for number in numbers:
            profile = find_profile(number)
            if profile is not None:
                responder_view(profile)
            db.session.remove()
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    ok = True
    unique = list(dict.fromkeys(s for s, _ in seen))
    print(f"\n  the {len(unique)} distinct queries of a found and a not-found look-up, and plans:")
    for statement in unique:
        parameters = next(p for s, p in seen if s == statement)
        with engine.connect() as conn:
            if kind == "sqlite":
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
                lines = [row[-1] for row in rows]
                # "SCAN anon_1" reads the subquery's few rows, not a table.
                scans = [ln for ln in lines if ln.startswith("SCAN") and "USING" not in ln
                         and not ln.startswith("SCAN anon_")]  # fmt: skip
            else:
                rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
                lines = [row[0] for row in rows]
                scans = [ln for ln in lines if "Seq Scan" in ln]
        ok &= not scans
        print("    " + " ".join(statement.split())[:150])
        for line in lines:
            print(f"      {line}")
    print(f"  index look-ups only, no table scanned: {'yes' if ok else 'NO'}")
    return ok


# -- one database -----------------------------------------------------------------------------


def run_database(kind: str, args: argparse.Namespace, tmp: Path) -> dict:
    print(f"\n=== {kind} " + "=" * 70)
    reuse = kind == "postgresql" and args.reuse
    if kind == "sqlite":
        database_url = f"sqlite:///{tmp / 'lookup_bench.sqlite3'}"
    elif reuse:  # left by a run with --keep: the same rows, as the data is the same
        database_url = make_url(args.pg_url).set(database=args.pg_db).render_as_string(False)
    else:
        database_url = fresh_postgres(args.pg_url, args.pg_db)
    app = create_app({"APP_ENV": "testing", "SECRET_KEY": "bench-" + "x" * 40,
                      "DATABASE_URL": database_url, "ENCRYPTION_KEYS": BENCH_KEY,
                      "SMS_BACKEND": "outbox", "RATELIMIT_ENABLED": False,
                      "RATELIMIT_STORAGE_URI": "memory://"})  # fmt: skip
    now = datetime.now(UTC)
    with app.app_context():
        if not reuse:
            upgrade()
        db.engine.dispose()
        data = Data(args.rows, now, encrypted_samples())
    engine = sa.create_engine(normalise_database_url(database_url))
    try:
        start = time.perf_counter()
        if reuse:
            for _ in data.phones():  # which further numbers are verified, as loaded
                pass
            with engine.connect() as conn:
                counts = {"profiles": conn.scalar(sa.text("SELECT count(*) FROM profiles"))}
        else:
            counts = (load_sqlite if kind == "sqlite" else load_postgres)(engine, data)
        load_s = time.perf_counter() - start
    finally:
        engine.dispose()
    print(f"database: {database_url}  (real migrations)")
    print(f"  {'reused' if reuse else 'loaded'} in {load_s:.1f} s: "
          + ", ".join(f"{n} {c:,}" for n, c in counts.items()))  # fmt: skip

    result: dict = {"load_s": load_s, "rows": counts["profiles"]}
    numbers = sample_numbers(args.rows, data.extra_phone_owner, args.lookups, SEED + 10)
    with app.app_context():
        time_lookups(sample_numbers(args.rows, data.extra_phone_owner, 300, SEED + 11))  # warm
        print(f"  load average before: {load_average()}  (1, 5, 15 min; {os.cpu_count()} CPUs)")
        timings, cpu, found = time_lookups(numbers)
        result.update(p50=percentile(timings, 50), p95=percentile(timings, 95),
                      max=max(timings), found=found, cpu_p50=percentile(cpu, 50),
                      cpu_p95=percentile(cpu, 95))  # fmt: skip
        full = time_full_lookups(numbers[:FULL_LOOKUPS], args.rows + 1)
        result.update(full_p50=percentile(full, 50), full_p95=percentile(full, 95))
        print(f"  load average after: {load_average()}")
        print(
            f"\n  find_profile + responder_view, {len(numbers)} look-ups ({found} found): "
            f"p50 {result['p50']:.2f} ms, p95 {result['p95']:.2f} ms, max {result['max']:.2f} ms"
            f"  -> target p95 < {TARGET_P95_MS:g} ms: "
            f"{'PASS' if result['p95'] < TARGET_P95_MS else 'MISS'}"
        )
        print(
            f"  the same, this process's CPU time: p50 {result['cpu_p50']:.2f} ms, "
            f"p95 {result['cpu_p95']:.2f} ms"
        )
        print(
            f"  whole audited look-up (lookup_and_show: row, 2 audit rows, commit), "
            f"{len(full)}: p50 {result['full_p50']:.2f} ms, p95 {result['full_p95']:.2f} ms"
        )
        found_number = next(n for n in numbers if find_profile(n) is not None)
        db.session.remove()
        result["indexed"] = show_plans(db.engine, kind, [found_number, phone(4 * args.rows)])
        db.engine.dispose()
    if kind == "postgresql" and not (args.keep or args.reuse):
        drop_postgres(args.pg_url, args.pg_db)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lookup", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="residents with profiles")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--lookups", type=int, default=1000, help="timed look-ups")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a maintenance database on the PostgreSQL server (not dropped)",
    )
    parser.add_argument("--pg-db", default="lookup_bench", help="dropped and recreated each run")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="PostgreSQL: time the look-ups on the database a run with --keep left (same --rows)",
    )
    args = parser.parse_args(argv)

    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    print(f"Phone look-up: {args.rows:,} residents with profiles, {args.lookups} look-ups.")
    results = {}
    with tempfile.TemporaryDirectory(prefix="lookup-bench-") as tmp:
        for kind in kinds:
            results[kind] = run_database(kind, args, Path(tmp))

    print("\n=== summary " + "=" * 68)
    print(f"  {'database':<12}{'profiles':>11}{'load s':>8}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'max ms':>9}{'cpu p95':>9}{'found':>7}{'target':>8}"
          f"{'audited p50/p95 ms':>21}")  # fmt: skip
    ok = True
    for kind, r in results.items():
        verdict = "PASS" if r["p95"] < TARGET_P95_MS else "MISS"
        print(f"  {kind:<12}{r['rows']:>11,}{r['load_s']:>8.1f}{r['p50']:>9.2f}{r['p95']:>9.2f}"
              f"{r['max']:>9.2f}{r['cpu_p95']:>9.2f}{r['found']:>7}{verdict:>8}"
              f"{r['full_p50']:>11.2f} / {r['full_p95']:.2f}")  # fmt: skip
        if not r["indexed"]:
            print(f"  {kind}: check failed: a look-up query scans a table")
            ok = False
        if r["rows"] != args.rows:
            print(f"  {kind}: check failed: rows loaded")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
