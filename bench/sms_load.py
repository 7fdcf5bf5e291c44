"""SMS webhook load benchmark: ``make bench-sms`` or ``python -m bench.sms_load``.

For each database (SQLite, PostgreSQL): a fresh database built by the real migrations; the
production app served by gunicorn (``-w 2 --threads 4``) and, beside it with the same settings,
a bare Flask app answering a constant TwiML (``bench/bare_twiml.py``); realistic signed Twilio
webhooks over keep-alive connections:

(a) paced, open loop: ``--rate`` texts/s for ``--seconds``, with ``--page-rate`` public pages/s
    requested meanwhile; latency counts from each request's scheduled time, so a slow server
    cannot hide its queueing. Budget: p99 under 50 ms at 100 texts/s;
(b) full speed: ``--clients`` clients for ``--full-seconds`` against each server, in
    ``--rounds`` alternating rounds (ours then bare, bare then ours, ...) so that the machine's
    drift falls on both alike. Budget: our throughput at least 25 % of the bare endpoint's;
(c) burst: with a dispatcher on duty, 50 numbers text an emergency word and one more number
    sends 6 such texts, all 56 at the same moment; on an idle machine, then while busy loops
    keep every CPU busy.

Budgets are reported PASS or MISS. Correctness sets the exit status to 1: every webhook
answered 200 is one ``inbound_messages`` row, no ``message_sid`` twice, 100 replayed webhooks
add no row and get the same reply; in each burst, 56 stored texts, exactly one emergency session
for each of the 51 numbers with every text filed in it, every reply the relay's normal instant
reply (never a "could not pass / process your message" one), nothing spooled.

    python -m bench.sms_load [--db sqlite|postgres|both] [--seconds 60] [--rate 100]

``BENCH_GUNICORN`` overrides both servers' gunicorn arguments. PostgreSQL: the database
``--pg-db`` (default ``sms_bench``) on ``--pg-url`` is dropped and recreated on every run.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import cycle
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator

from webapp import create_app
from webapp.config import Settings, normalise_database_url
from webapp.crypto import generate_key
from webapp.i18n import LOCALE_CODES
from webapp.models import Role, User, UserSession
from webapp.models.types import utcnow
from webapp.sms import texts

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CPUS = os.cpu_count() or 1
GUNICORN_ARGS = os.environ.get("BENCH_GUNICORN", "-w 2 --threads 4").split()

AUTH_TOKEN = "bench0auth0token0not0secret00001"  # noqa: S105  (a fixed test token)
ACCOUNT_SID = "AC" + "b" * 32
OUR_NUMBER = "+13125550100"
BODIES = ["HELP", "STATUS", "STOP", "START", "hello", "Ayuda ñ", "帮助", "مساعدة",
          "I'm not sure what's on my profile"]  # fmt: skip
# 1,000 senders, fixed so runs are comparable; every 4th has a verified account (in every
# language), so HELP, STATUS and the rest also take the account paths.
SENDERS = [f"+1773{n:07d}" for n in random.Random(1).sample(range(2_000_000, 9_999_999), 1000)]
ACCOUNT_LOCALES = ["en", "es", "pl", "zh_Hans", "ar"]
PAGES = ["/", "/account/sign-in", "/terms", "/privacy"]  # public, not rate limited for a GET

TARGET_P99_MS = 50.0
TARGET_RATIO = 0.25
REPLAYS = 100

BURST_NUMBERS = 50  # each texts once
BURST_JOINS = 6  # texts from one more number, at the same moment
BURST_BODIES = ["911 help me", "SOS fire", "Police! someone is breaking in",
                "ayúdame por favor", "救命 有人闯进来", "نجدة", "Fire in my building, send help",
                "POMOCY, pożar"]  # fmt: skip
# The relay's instant replies (``receive`` in webapp/dispatch/relay/texter.py): every burst
# text carries a keyword and no dispatcher claims its session, so each gets a normal one.
NORMAL_REPLIES = ("emergency_received", "emergency_off_duty")
FAILURE_REPLIES = ("emergency_failed", "service_unavailable")


# -- requests ---------------------------------------------------------------------------------


@dataclass
class Webhook:
    sid: str
    body: bytes  # the urlencoded form
    headers: dict[str, str]


class Signer:
    """Builds signed Twilio inbound-SMS webhooks for one server's public URL."""

    def __init__(self, url: str):
        self.url = url
        self.validator = RequestValidator(AUTH_TOKEN)
        self.rng = random.Random()
        self.lock = threading.Lock()

    def make(self, sender: str | None = None, text: str | None = None) -> Webhook:
        with self.lock:
            sender = sender or self.rng.choice(SENDERS)
            text = text or self.rng.choice(BODIES)
        sid = "SM" + secrets.token_hex(16)
        params = {  # what Twilio posts for an incoming SMS
            "ToCountry": "US", "ToState": "IL", "SmsMessageSid": sid, "NumMedia": "0",
            "ToCity": "CHICAGO", "FromZip": "60601", "SmsSid": sid, "FromState": "IL",
            "SmsStatus": "received", "FromCity": "CHICAGO", "Body": text, "FromCountry": "US",
            "To": OUR_NUMBER, "ToZip": "60601", "NumSegments": "1", "MessageSid": sid,
            "AccountSid": ACCOUNT_SID, "From": sender, "ApiVersion": "2010-04-01",
        }  # fmt: skip
        headers = {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "X-Twilio-Signature": self.validator.compute_signature(self.url, params),
            "User-Agent": "TwilioProxy/1.1",
            "Connection": "keep-alive",
        }
        return Webhook(sid, urlencode(params).encode(), headers)


def reply_text(twiml: bytes) -> str:
    """The words of a TwiML answer's message ("" for none, or for no TwiML at all)."""
    try:
        return ET.fromstring(twiml).findtext("Message") or ""  # noqa: S314 (our own server)
    except ET.ParseError:
        return ""


# -- the client -------------------------------------------------------------------------------


@dataclass
class Result:
    webhook: Webhook | None  # None: a page
    status: int  # 0: no HTTP answer (connection error, timeout)
    latency_ms: float
    reply: bytes = b""
    error: str = ""


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path
    signer: Signer = field(init=False)

    def __post_init__(self) -> None:
        self.signer = Signer(f"http://127.0.0.1:{self.port}/sms/inbound")


class Client:
    """One keep-alive HTTP/1.1 connection per thread; reconnects once on a dropped one."""

    PAGE_HEADERS = {"User-Agent": "bench", "Accept-Language": "en", "Connection": "keep-alive"}

    def __init__(self, port: int):
        self.port = port
        self.local = threading.local()

    def connection(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.local.conn = conn
        return conn

    def post(self, webhook: Webhook, start: float | None = None) -> Result:
        return self.request("POST", "/sms/inbound", webhook, start)

    def get(self, path: str, start: float | None = None) -> Result:
        return self.request("GET", path, None, start)

    def request(self, method: str, path: str, webhook: Webhook | None, start: float | None):
        start = time.perf_counter() if start is None else start
        body, headers = (webhook.body, webhook.headers) if webhook else (None, self.PAGE_HEADERS)
        for attempt in (1, 2):
            conn = self.connection()
            try:
                conn.request(method, path, body, headers)
                response = conn.getresponse()
                reply = response.read()
                if response.will_close:
                    self.close()
                return Result(webhook, response.status, _ms_since(start), reply)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                # The server closed an idle keep-alive connection before reading the request.
                self.close()
                if attempt == 2:
                    return Result(webhook, 0, _ms_since(start), error=type(e).__name__)
            except OSError as e:  # refused, timeout
                self.close()
                return Result(webhook, 0, _ms_since(start), error=type(e).__name__)
        raise AssertionError("unreachable")

    def close(self) -> None:
        conn = getattr(self.local, "conn", None)
        if conn is not None:
            conn.close()
        self.local.conn = None


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def open_loop(rate: float, seconds: float, send: Callable[[float], Result]) -> list[Result]:
    """Call ``send(due)`` at each ``due = t0 + i/rate``, whatever happened to earlier calls."""
    futures = []
    with ThreadPoolExecutor(max_workers=64, thread_name_prefix="paced") as pool:
        t0 = time.perf_counter() + 0.05
        for i in range(int(rate * seconds)):
            due = t0 + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(send, due))
        return [f.result() for f in futures]


def paced(server: Server, rate: float, seconds: float, page_rate: float):
    """Texts at ``rate`` per second and, beside them, public pages at ``page_rate``."""
    sms, browser = Client(server.port), Client(server.port)
    paths = iter(PAGES * int(page_rate * seconds + 1))
    pages: list[Result] = []
    page_load = threading.Thread(
        target=lambda: pages.extend(
            open_loop(page_rate, seconds, lambda due: browser.get(next(paths), due))
        )
    )
    t0 = time.perf_counter()
    page_load.start()
    results = open_loop(rate, seconds, lambda due: sms.post(server.signer.make(), due))
    page_load.join()
    return results, time.perf_counter() - t0, pages


def together(threads: int, run: Callable[[int], None], ready=lambda i: None) -> float:
    """``run(i)`` in ``threads`` threads released at the same moment (each after its
    ``ready(i)``); the seconds until the last one ends."""
    barrier = threading.Barrier(threads + 1)

    def thread(i: int) -> None:
        try:
            ready(i)
        finally:
            barrier.wait()
        run(i)

    started = [threading.Thread(target=thread, args=(i,)) for i in range(threads)]
    for t in started:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in started:
        t.join()
    return time.perf_counter() - t0


def full_speed(server: Server, clients: int, seconds: float):
    """Closed loop: ``clients`` threads, each sending its next request as soon as answered."""
    client = Client(server.port)
    results: list[Result] = []
    deadline = time.perf_counter() + seconds

    def run(i: int) -> None:
        while time.perf_counter() < deadline:
            results.append(client.post(server.signer.make()))
        client.close()

    return results, together(clients, run), []


def fire_together(server: Server, webhooks: list[Webhook]) -> tuple[list[Result], float]:
    """Send every webhook at the same moment, each from its own thread on its own open
    connection; returns the results and the milliseconds until the last answer."""
    client = Client(server.port)
    results = [Result(w, 0, 0.0, error="not sent") for w in webhooks]

    def run(i: int) -> None:
        results[i] = client.post(webhooks[i])
        client.close()

    seconds = together(len(webhooks), run, ready=lambda i: client.connection().connect())
    return results, seconds * 1000


# -- figures ----------------------------------------------------------------------------------


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summary(results: list[Result], elapsed: float, others_s: float = float("nan")) -> dict:
    """A phase's figures; ``others_s``: the CPU seconds other processes used meanwhile."""
    ok = [r.latency_ms for r in results if r.status == 200]
    failures = Counter(r.error or f"HTTP {r.status}" for r in results if r.status != 200)
    return {
        "results": results, "elapsed": elapsed, "requests": len(results),
        "errors": sum(failures.values()), "failures": failures,
        "rps": len(ok) / elapsed if elapsed else 0.0,
        "p50": percentile(ok, 50), "p90": percentile(ok, 90), "p99": percentile(ok, 99),
        "max": max(ok, default=float("nan")),
        "others": others_s / elapsed / CPUS if elapsed else float("nan"),
    }  # fmt: skip


def print_row(label: str, s: dict) -> None:
    print(
        f"  {label:<30}{s['requests']:>8}{s['rps']:>9.1f}{s['p50']:>9.1f}{s['p90']:>9.1f}"
        f"{s['p99']:>9.1f}{s['max']:>9.1f}{s['errors']:>8}{s['others']:>8.0%}"
    )
    if s["failures"]:
        print("    failures: " + ", ".join(f"{k} x{n}" for k, n in s["failures"].most_common()))


def alternating_full_speed(ours: Server, bare: Server, args) -> tuple[dict, dict, list[float]]:
    """Full speed against both servers in ``args.rounds`` alternating rounds (ours first,
    then bare first, ...), each ``args.full_seconds / args.rounds`` long, so that the machine's
    drift falls on both alike. Returns both servers' combined figures and each round's ratio."""
    length = args.full_seconds / args.rounds
    runs: dict[str, list[tuple[list[Result], float, float]]] = {"ours": [], "bare": []}
    for i in range(args.rounds):
        for server in [ours, bare] if i % 2 == 0 else [bare, ours]:
            others = Others()
            results, elapsed, _ = full_speed(server, args.clients, length)
            runs[server.name].append((results, elapsed, others.cpu_s()))
    ratios = [
        summary(*o)["rps"] / max(summary(*b)["rps"], 1e-9)
        for o, b in zip(runs["ours"], runs["bare"], strict=True)
    ]

    def combined(parts: list[tuple[list[Result], float, float]]) -> dict:
        results = [r for part in parts for r in part[0]]
        return summary(results, sum(p[1] for p in parts), sum(p[2] for p in parts))

    return combined(runs["ours"]), combined(runs["bare"]), ratios


def in_list(conn, sql: str, values) -> sa.CursorResult:
    """``sql`` with ``:v`` bound to the list ``values``."""
    statement = sa.text(sql).bindparams(sa.bindparam("v", expanding=True))
    return conn.execute(statement, {"v": list(values) or [None]})


def checked(checks: dict[str, bool], indent: str = "  ") -> bool:
    for name, ok in checks.items():
        print(f"{indent}{name:<34} {'ok' if ok else 'FAILED'}")
    return all(checks.values())


# -- the machine ------------------------------------------------------------------------------


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies of all CPUs since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[3] + fields[4], sum(fields)  # idle + iowait


def settle(idle_wanted: float = 0.9, at_most: float = 60.0) -> str:
    """Wait (up to ``at_most`` seconds) until the CPUs were idle for ``idle_wanted`` of a
    second, so that what an earlier phase left running (autovacuum, checkpoints, processes
    still exiting) does not land on the next one."""
    if not Path("/proc/stat").exists():
        return "n/a"
    start = time.monotonic()
    idle = 0.0
    while time.monotonic() - start < at_most:
        idle0, total0 = cpu_times()
        time.sleep(1.0)
        idle1, total1 = cpu_times()
        idle = (idle1 - idle0) / max(1, total1 - total0)
        if idle >= idle_wanted:
            break
    busy = "" if idle >= idle_wanted else "; NOT idle: other processes weigh on these figures"
    return f"{time.monotonic() - start:.0f} s, then {idle:.0%} idle{busy}"


def cpu_by_process() -> dict[int, tuple[int, str, int]]:
    """{pid: (parent's pid, name, CPU ticks used so far)} of every process (Linux /proc)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # a process that just ended
            continue
        name, fields = text[text.find("(") + 1 : text.rfind(")")], text.rsplit(")", 1)[1].split()
        found[int(stat.parent.name)] = (int(fields[1]), name, int(fields[11]) + int(fields[12]))
    return found


class Others:
    """The CPU that other work on the machine takes from a phase: processes that are neither
    this benchmark's (it, its servers, its busy loops) nor PostgreSQL's. A lower bound (what
    a process that ended meanwhile used is not seen), to tell a quiet run from a shared one."""

    def __init__(self):
        self.before = cpu_by_process()

    def cpu_s(self) -> float:
        now = cpu_by_process()

        def ours(pid: int) -> bool:
            while pid > 1 and pid != os.getpid():
                pid = now.get(pid, (0,))[0]
            return pid == os.getpid()

        ticks = sum(
            cpu - self.before.get(pid, (0, "", 0))[2]
            for pid, (_, name, cpu) in now.items()
            if name != "postgres" and not ours(pid)
        )
        return max(0, ticks) / os.sysconf("SC_CLK_TCK")


def busy_loops() -> list[subprocess.Popen]:
    """One process spinning on each CPU (stopped by the caller, by their ids)."""
    spin = [sys.executable, "-c", "while True: pass"]
    return [subprocess.Popen(spin) for _ in range(os.cpu_count() or 2)]


# -- databases and servers --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_postgres(admin_url: str, name: str) -> str:
    if name in ("test", "postgres", "template1") or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"refusing to drop the database {name!r}: pick another --pg-db")
    engine = sa.create_engine(normalise_database_url(admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def account(phone: str, locale: str, role: Role, **more) -> dict:
    """A ``users`` row no password can sign in to."""
    return {"phone": phone, "password_hash": "!bench-account-no-sign-in", "locale": locale,
            "role": role.value, "created_at": utcnow(), "failed_sign_ins": 0, **more}  # fmt: skip


def seed_accounts(engine) -> int:
    """Verified resident accounts for every 4th sender."""
    rows = [
        account(phone, ACCOUNT_LOCALES[i % 5], Role.RESIDENT, phone_verified_at=utcnow())
        for i, phone in enumerate(SENDERS[::4])
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(User.__table__), rows)
    return len(rows)


def put_dispatcher_on_duty(engine) -> None:
    """A dispatcher on duty: signed in past the second factor, at the console just now."""
    now = utcnow()
    users = User.__table__
    row = account("+13125550911", "en", Role.DISPATCHER, on_duty_since=now)
    with engine.begin() as conn:
        user_id = conn.execute(sa.insert(users).returning(users.c.id), row).scalar_one()
        conn.execute(
            sa.insert(UserSession.__table__),
            {"token_hash": secrets.token_hex(32), "user_id": user_id, "created_at": now,
             "last_seen_at": now, "second_factor_at": now},
        )  # fmt: skip


def app_settings(database_url: str, port: int, spool: Path) -> dict[str, str]:
    """The app's settings (environment variables), as production has them."""
    return {
        "APP_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
        "ENCRYPTION_KEYS": generate_key(), "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_FROM_NUMBER": OUR_NUMBER,
        "SMS_BACKEND": "twilio",  # no worker runs: the replies are the TwiML answers only
        "RATELIMIT_STORAGE_URI": "memory://", "SMS_SPOOL_DIR": str(spool),
    }  # fmt: skip


def expected_replies(settings: dict[str, str]) -> dict[str, str]:
    """The relay's replies as the app words them, in every language: {words: template}."""
    app = create_app(settings)
    with app.app_context():
        return {
            texts.render(template, locale): template
            for template in NORMAL_REPLIES + FAILURE_REPLIES
            for locale in LOCALE_CODES
        }


def start_gunicorn(name: str, module: str, port: int, env: dict, log_path: Path) -> Server:
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), *GUNICORN_ARGS, "-b", f"127.0.0.1:{port}", module],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = Server(name, port, process, log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    stop(server)
    tail = log_path.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"{name} did not become healthy on port {port}:\n{tail}")


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def log_problems(path: Path, since: int = 0) -> list[str]:
    """The warning and error lines of a server's log, from byte ``since`` on."""
    with path.open("rb") as fh:
        fh.seek(since)
        lines = fh.read().decode(errors="replace").splitlines()
    marks = ("Traceback", "[ERROR]", " ERROR ", "WARNING", "Error:")
    return [ln for ln in lines if any(mark in ln for mark in marks)]


def flask_command(env: dict, *args: str) -> subprocess.CompletedProcess:
    """``flask --app wsgi *args``, as an operator runs it, against the app's database."""
    return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)  # fmt: skip


def spooled(spool: Path) -> list[Path]:
    return sorted(spool.glob("*.json")) if spool.exists() else []


def import_spool(env: dict, spool: Path) -> tuple[int, int, int]:
    """(spooled, imported, left): the texts the app spooled (its fallback when a text's
    database work fails), imported with the operator's command."""
    before, imported = len(spooled(spool)), 0
    if before:
        found = re.search(r"Imported (\d+)", flask_command(env, "sms", "import-spool").stdout)
        imported = int(found.group(1)) if found else 0
    return before, imported, len(spooled(spool))


# -- one database -----------------------------------------------------------------------------


def run_database(kind: str, args: argparse.Namespace, tmp: Path) -> bool:
    print(f"\n=== {kind} " + "=" * 74)
    spool = tmp / f"{kind}-spool"
    if kind == "sqlite":
        database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    else:
        database_url = fresh_postgres(args.pg_url, args.pg_db)
    port, bare_port = free_port(), free_port()
    settings = app_settings(database_url, port, spool)
    env = {k: v for k, v in os.environ.items() if k not in Settings.__dataclass_fields__}
    env.update(settings, PYTHONUNBUFFERED="1")
    migrated = flask_command(env, "db", "upgrade")
    if migrated.returncode != 0:
        raise RuntimeError(f"flask --app wsgi db upgrade failed:\n{migrated.stderr[-3000:]}")
    engine = sa.create_engine(normalise_database_url(database_url))
    accounts = seed_accounts(engine)
    print(f"database: {database_url}  (flask --app wsgi db upgrade; {accounts} accounts)")
    print(f"load average before: {load_average()}  (1, 5, 15 min; {os.cpu_count()} CPUs)")
    ours = start_gunicorn("ours", "wsgi:app", port, env, tmp / f"{kind}-ours.log")
    try:
        bare = start_gunicorn("bare", "bench.bare_twiml:app", bare_port, env,
                              tmp / f"{kind}-bare.log")  # fmt: skip
    except BaseException:
        stop(ours)
        raise
    try:
        ok = exercise(ours, bare, engine, env, spool, args)
        replies = expected_replies(settings)
        put_dispatcher_on_duty(engine)
        for first, busy in ((0, False), (100, True)):
            print(f"\n  (waited for the machine to settle: {settle()})")
            ok &= burst(ours, engine, spool, replies, first=first, busy=busy)
        return ok
    finally:
        stop(ours)
        stop(bare)
        engine.dispose()
        problems = log_problems(ours.log_path)
        if problems:
            print(f"  server log: {len(problems)} warning/error lines, e.g. {problems[0][:160]}")


def exercise(ours: Server, bare: Server, engine, env: dict, spool: Path, args) -> bool:
    """The paced and full-speed phases, the budgets, then the integrity and replay checks."""
    print(
        f"  {'phase':<30}{'requests':>8}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}"
        f"{'p99 ms':>9}{'max ms':>9}{'errors':>8}{'others':>8}"
    )
    sent: list[Result] = []  # every webhook to our app, for the row accounting
    for server in (ours, bare):  # warm-up: each worker imports modules, opens connections
        warm, _, _ = full_speed(server, 4, 1.0)
        sent += warm if server is ours else []

    print(f"  (waited for the machine to settle: {settle()})")
    others = Others()
    results, elapsed, pages = paced(ours, args.rate, args.seconds, args.page_rate)
    paced_s = summary(results, elapsed, others.cpu_s())
    sent += paced_s["results"]
    print_row(f"(a) paced {args.rate:g}/s, {args.seconds:g} s", paced_s)
    print_row(f"(a) pages {args.page_rate:g}/s meanwhile", summary(pages, elapsed, others.cpu_s()))
    ours_s, bare_s, round_ratios = alternating_full_speed(ours, bare, args)
    sent += ours_s["results"]
    print_row(f"(b) full speed, ours x{args.clients}", ours_s)
    print_row(f"(b) full speed, bare x{args.clients}", bare_s)
    ratio = ours_s["rps"] / bare_s["rps"] if bare_s["rps"] else 0.0

    print("\n  budgets")
    p99_ok = paced_s["p99"] < TARGET_P99_MS and not paced_s["errors"]
    print(
        f"  paced p99, {args.rate:g}/s + pages   {paced_s['p99']:>7.1f} ms   target < "
        f"{TARGET_P99_MS:g} ms   {'PASS' if p99_ok else 'MISS'}"
    )
    print(
        f"  full speed, ours / bare     {ratio:>7.1%}      target >= {TARGET_RATIO:.0%}"
        f"      {'PASS' if ratio >= TARGET_RATIO else 'MISS'}"
        f"   ({ours_s['rps']:.1f} / {bare_s['rps']:.1f} req/s)"
    )
    print(f"  (each round's ratio: {', '.join(f'{r:.1%}' for r in round_ratios)})")

    # Integrity: what was answered 200 against what the database holds, once the texts that
    # were spooled (if any) are imported.
    spooled_n, imported, left = import_spool(env, spool)
    ok_results = [r for r in sent if r.status == 200]
    answered = {r.webhook.sid for r in ok_results}
    with engine.connect() as conn:
        stored = list(conn.scalars(sa.text("SELECT message_sid FROM inbound_messages")))
        mix = conn.execute(
            sa.text("SELECT command, count(*), count(reply) FROM inbound_messages "
                    "GROUP BY command ORDER BY count(*) DESC")
        ).all()  # fmt: skip
    # Replays: Twilio retries with the same MessageSid; nothing new may be stored.
    originals = random.Random(2).sample(ok_results, min(REPLAYS, len(ok_results)))
    client = Client(ours.port)
    replays = [client.post(r.webhook) for r in originals]
    client.close()
    with engine.connect() as conn:
        rows_after = conn.execute(sa.text("SELECT count(*) FROM inbound_messages")).scalar_one()
    replay_ok = sum(r.status == 200 for r in replays)
    same_reply = sum(a.reply == b.reply for a, b in zip(originals, replays, strict=True))

    print(
        f"\n  webhooks to our app: {len(sent)} (warm-up included), answered 200: "
        f"{len(ok_results)}; rows: {len(stored)}, distinct message_sid: {len(set(stored))}; "
        f"spooled: {spooled_n}, imported: {imported}, left: {left}"
    )
    print("  commands stored (with a reply): " + ", ".join(f"{c} {n} ({r})" for c, n, r in mix))
    if answered != set(stored):
        print(f"  answered 200, not stored: {len(answered - set(stored))}; the other way round: "
              f"{len(set(stored) - answered)}")  # fmt: skip
    print(
        f"  replayed {len(replays)} sent webhooks: {replay_ok} answered 200, {same_reply} with "
        f"the original reply; rows {len(stored)} -> {rows_after}"
    )
    return checked(
        {
            "every 200 is one row": len(ok_results) == len(stored) and answered == set(stored),
            "spool imported": imported == spooled_n and left == 0,
            "no duplicate message_sid": len(set(stored)) == len(stored),
            "replay adds no row": rows_after == len(stored),
            "replay gets the same reply": replay_ok == same_reply == len(originals),
        }
    )


def burst(ours: Server, engine, spool: Path, replies: dict, *, first: int, busy: bool) -> bool:
    """``BURST_NUMBERS`` new numbers text an emergency word and one more number sends
    ``BURST_JOINS`` such texts, all at the same moment; check what was stored and answered."""
    numbers = [f"+1872555{first + i:04d}" for i in range(BURST_NUMBERS + 1)]
    senders = numbers[:-1] + [numbers[-1]] * BURST_JOINS
    webhooks = [ours.signer.make(phone, body) for phone, body in zip(senders, cycle(BURST_BODIES))]
    sids = {w.sid for w in webhooks}
    log_from = ours.log_path.stat().st_size
    spinners = busy_loops() if busy else []
    try:
        if spinners:
            time.sleep(1.0)  # the loops are running before the texts arrive
        others, t0 = Others(), time.perf_counter()
        results, wall_ms = fire_together(ours, webhooks)
        others_share = others.cpu_s() / (time.perf_counter() - t0) / CPUS
    finally:
        for p in spinners:
            p.kill()
            p.wait()

    with engine.connect() as conn:
        stored = dict(in_list(conn, "SELECT id, command FROM inbound_messages "
                                    "WHERE message_sid IN :v", sids).all())  # fmt: skip
        opened = Counter(
            in_list(conn, "SELECT phone FROM emergency_sessions WHERE phone IN :v", numbers)
            .scalars()
        )  # fmt: skip
        filed = in_list(conn, "SELECT count(*) FROM emergency_messages "
                              "WHERE inbound_message_id IN :v", stored).scalar_one()  # fmt: skip
    kinds: Counter[str] = Counter()
    odd: dict[str, str] = {}  # an example of each reply that is not a normal one
    for r in results:
        words = reply_text(r.reply)
        kind = replies.get(words, "other reply") if words else "no reply"
        kind = kind if r.status == 200 else r.error or f"HTTP {r.status}"
        kinds[kind] += 1
        if kind not in NORMAL_REPLIES:
            odd.setdefault(kind, words or r.reply.decode(errors="replace"))
    spooled_now = [p for p in spooled(spool) if p.stem in sids]
    latencies = [r.latency_ms for r in results if r.status == 200]

    total = len(webhooks)
    print(
        f"  (c) burst, {'busy' if busy else 'idle'} machine: {total} emergency texts "
        f"({BURST_NUMBERS} numbers once, one number x{BURST_JOINS}) at once; all answered in "
        f"{wall_ms:.0f} ms (p50 {percentile(latencies, 50):.0f} ms); other processes "
        f"{others_share:.0%} of the CPUs"
    )
    print(
        f"    rows {len(stored)}, sessions {sum(opened.values())} for {len(opened)} numbers, "
        f"texts filed {filed}, spooled {len(spooled_now)}; replies: "
        + ", ".join(f"{k} x{n}" for k, n in kinds.most_common())
    )
    for kind, example in odd.items():
        print(f"    e.g. {kind}: {example[:160]!r}")
    ok = checked(
        {
            f"{total} answered 200": all(r.status == 200 for r in results),
            f"{total} rows, each an emergency": list(stored.values()) == ["emergency"] * total,
            f"exactly one session for each of {len(numbers)}": len(opened) == len(numbers)
            and set(opened.values()) == {1},
            f"all {total} filed in their sessions": filed == total,
            "every reply a normal one": sum(kinds[k] for k in NORMAL_REPLIES) == total,
            "nothing spooled": not spooled_now,
        },
        indent="    ",
    )
    if not ok:
        problems = log_problems(ours.log_path, log_from)
        print(f"    server log during the burst ({len(problems)} warning/error lines):")
        for line in problems[:20]:
            print(f"      {line[:200]}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        "python -m bench.sms_load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=60, help="paced phase length")
    parser.add_argument("--rate", type=float, default=100, help="paced texts per second")
    parser.add_argument("--page-rate", type=float, default=4, help="pages/s beside them")
    parser.add_argument("--full-seconds", type=float, default=60, help="full-speed phase length")
    parser.add_argument("--clients", type=int, default=16, help="full-speed concurrent clients")
    parser.add_argument("--rounds", type=int, default=6, help="alternating full-speed rounds")
    pg_url = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pg-url", default=pg_url, help="a maintenance database (kept)")
    parser.add_argument("--pg-db", default="sms_bench", help="dropped and recreated each run")
    args = parser.parse_args(argv)

    print(f"SMS webhook load: gunicorn {' '.join(GUNICORN_ARGS)}, {os.cpu_count()} CPUs shared "
          "with the load generator; latencies of 200 answers, in ms; others: the share of the "
          "CPUs that other processes (not PostgreSQL's) used meanwhile.")  # fmt: skip
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    ok = True
    with tempfile.TemporaryDirectory(prefix="sms-bench-") as tmp:
        for kind in kinds:
            ok &= run_database(kind, args, Path(tmp))
    print(f"\ncorrectness: {'all checks ok' if ok else 'FAILED (see above)'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
