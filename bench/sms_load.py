"""SMS webhook load benchmark: ``make bench-sms`` or ``python -m bench.sms_load``.

For each database (SQLite, PostgreSQL) it builds a fresh database with the real migrations,
serves the production app with gunicorn (``-w 2 --threads 4``) and a bare Flask app answering
a constant TwiML (``bench/bare_twiml.py``) with the same settings, then fires realistic signed
Twilio webhooks over keep-alive connections:

(a) paced, open loop: ``--rate`` requests/s for ``--seconds``; latency is measured from each
    request's scheduled send time, so a slow server cannot hide its queueing;
(b) full speed: ``--clients`` concurrent clients for ``--full-seconds``, against our app and
    against the bare app, with the same client code, in ``--rounds`` alternating rounds (ours
    then bare, bare then ours, ...) so that the machine's drift falls on both alike.

Then it checks the database directly: every webhook answered 200 is one ``inbound_messages``
row (no duplicate ``message_sid``), and replaying 100 already-sent webhooks (same MessageSid)
adds no row and answers the same reply.

    python -m bench.sms_load [--db sqlite|postgres|both] [--seconds 60] [--rate 50]

``BENCH_GUNICORN`` overrides the gunicorn arguments of both servers (``"-w 2 --threads 1"``, say);
the ratio is only meaningful with the same arguments for both, and with a setting that does not
slow the bare endpoint down on purpose.

PostgreSQL: the database ``--pg-db`` (default ``sms_bench``) on ``--pg-url`` is dropped and
recreated on every run. The exit status is 1 when a correctness check fails (rows, duplicates,
replay) or a server cannot start; missed latency/throughput targets are only reported.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator

from webapp.config import Settings, normalise_database_url
from webapp.crypto import generate_key
from webapp.models import Role, User
from webapp.models.types import utcnow

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GUNICORN_ARGS = os.environ.get("BENCH_GUNICORN", "-w 2 --threads 4").split()

AUTH_TOKEN = "bench0auth0token0not0secret00001"  # noqa: S105  (a fixed test token)
ACCOUNT_SID = "AC" + "b" * 32
OUR_NUMBER = "+13125550100"
BODIES = [
    "HELP",
    "STATUS",
    "STOP",
    "START",
    "hello",
    "Ayuda ñ",
    "帮助",
    "مساعدة",
    "I'm not sure what's on my profile",
]
# 1,000 senders, fixed so runs are comparable; every 4th has a verified account (in every
# language), so HELP, STATUS and the rest also take the account paths.
SENDERS = [f"+1773{n:07d}" for n in random.Random(1).sample(range(2_000_000, 9_999_999), 1000)]
ACCOUNT_LOCALES = ["en", "es", "pl", "zh_Hans", "ar"]

TARGET_P99_MS = 50.0
TARGET_RATIO = 0.40
REPLAYS = 100


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

    def make(self) -> Webhook:
        with self.lock:
            sender = self.rng.choice(SENDERS)
            text = self.rng.choice(BODIES)
        sid = "SM" + secrets.token_hex(16)
        params = {  # what Twilio posts for an incoming SMS
            "ToCountry": "US",
            "ToState": "IL",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ToCity": "CHICAGO",
            "FromZip": "60601",
            "SmsSid": sid,
            "FromState": "IL",
            "SmsStatus": "received",
            "FromCity": "CHICAGO",
            "Body": text,
            "FromCountry": "US",
            "To": OUR_NUMBER,
            "ToZip": "60601",
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": sender,
            "ApiVersion": "2010-04-01",
        }
        return Webhook(
            sid,
            urlencode(params).encode(),
            {
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "X-Twilio-Signature": self.validator.compute_signature(self.url, params),
                "User-Agent": "TwilioProxy/1.1",
                "Connection": "keep-alive",
            },
        )


# -- the client -------------------------------------------------------------------------------


@dataclass
class Result:
    webhook: Webhook
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

    def __init__(self, port: int):
        self.port = port
        self.local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.local.conn = conn
        return conn

    def post(self, webhook: Webhook, start: float | None = None) -> Result:
        start = time.perf_counter() if start is None else start
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request("POST", "/sms/inbound", webhook.body, webhook.headers)
                response = conn.getresponse()
                reply = response.read()
                if response.will_close:
                    conn.close()
                    self.local.conn = None
                return Result(webhook, response.status, _ms_since(start), reply)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                # The server closed an idle keep-alive connection before reading the request.
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    return Result(webhook, 0, _ms_since(start), error=type(e).__name__)
            except OSError as e:  # refused, timeout
                conn.close()
                self.local.conn = None
                return Result(webhook, 0, _ms_since(start), error=type(e).__name__)
        raise AssertionError("unreachable")

    def close(self) -> None:
        conn = getattr(self.local, "conn", None)
        if conn is not None:
            conn.close()


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def paced(server: Server, rate: float, seconds: float) -> tuple[list[Result], float]:
    """Open loop: request i is due at t0 + i/rate, whatever happened to the earlier ones."""
    client = Client(server.port)
    total = int(rate * seconds)
    futures = []
    with ThreadPoolExecutor(max_workers=64, thread_name_prefix="paced") as pool:
        t0 = time.perf_counter() + 0.05
        for i in range(total):
            due = t0 + i / rate
            webhook = server.signer.make()
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(client.post, webhook, due))
        results = [f.result() for f in futures]
    elapsed = time.perf_counter() - t0
    return results, elapsed


def full_speed(server: Server, clients: int, seconds: float) -> tuple[list[Result], float]:
    """Closed loop: ``clients`` threads, each sending its next request as soon as answered."""
    client = Client(server.port)
    results: list[Result] = []
    lock = threading.Lock()
    start_barrier = threading.Barrier(clients + 1)
    deadline = 0.0

    def run() -> None:
        mine = []
        start_barrier.wait()
        while time.perf_counter() < deadline:
            mine.append(client.post(server.signer.make()))
        client.close()
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=run, name=f"client-{i}") for i in range(clients)]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    deadline = t0 + seconds
    start_barrier.wait()
    for t in threads:
        t.join()
    return results, time.perf_counter() - t0


# -- figures ----------------------------------------------------------------------------------


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summary(results: list[Result], elapsed: float, cpu_s: float | None) -> dict:
    ok = [r.latency_ms for r in results if r.status == 200]
    failures = Counter(r.error or f"HTTP {r.status}" for r in results if r.status != 200)
    return {
        "requests": len(results),
        "ok": len(ok),
        "errors": sum(failures.values()),
        "failures": failures,
        "rps": len(ok) / elapsed if elapsed else 0.0,
        "p50": percentile(ok, 50),
        "p90": percentile(ok, 90),
        "p99": percentile(ok, 99),
        "max": max(ok, default=float("nan")),
        "cpu": cpu_s * 1000 / len(results) if cpu_s is not None and results else float("nan"),
    }


def print_row(label: str, s: dict) -> None:
    print(
        f"  {label:<26}{s['requests']:>8}{s['rps']:>9.1f}{s['p50']:>9.1f}{s['p90']:>9.1f}"
        f"{s['p99']:>9.1f}{s['max']:>9.1f}{s['errors']:>8}{s['cpu']:>9.2f}"
    )
    if s["failures"]:
        print("    failures: " + ", ".join(f"{k} x{n}" for k, n in s["failures"].most_common()))


def server_cpu(server: Server) -> float | None:
    """CPU seconds used so far by a gunicorn master and its workers (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # a process that just ended
                continue
            pid, ppid = int(stat.parent.name), int(fields[1])
            if server.process.pid in (pid, ppid):
                total += int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, ValueError, IndexError):
        return None
    return total / tick


def measured(server: Server, phase, *args) -> dict:
    before = server_cpu(server)
    results, elapsed = phase(server, *args)
    after = server_cpu(server)
    cpu = after - before if before is not None and after is not None else None
    return {"results": results, "elapsed": elapsed, "cpu_s": cpu,
            **summary(results, elapsed, cpu)}  # fmt: skip


def combined(runs: list[dict]) -> dict:
    """The figures of several runs of one phase against one server, taken as one."""
    results = [r for run in runs for r in run["results"]]
    elapsed = sum(run["elapsed"] for run in runs)
    cpus = [run["cpu_s"] for run in runs]
    cpu = None if None in cpus else sum(cpus)
    return {"results": results, "elapsed": elapsed, "cpu_s": cpu,
            **summary(results, elapsed, cpu)}  # fmt: skip


def alternating_full_speed(ours: Server, bare: Server, args) -> tuple[dict, dict, list[float]]:
    """Full speed against both servers in ``args.rounds`` alternating rounds (ours first,
    then bare first, ...), each ``args.full_seconds / args.rounds`` long: the machine's speed
    drifts by tens of percent within minutes, and this way the drift falls on both alike.
    Returns both servers' combined figures and each round's ratio."""
    length = args.full_seconds / args.rounds
    runs: dict[str, list[dict]] = {"ours": [], "bare": []}
    for i in range(args.rounds):
        order = [ours, bare] if i % 2 == 0 else [bare, ours]
        for server in order:
            runs[server.name].append(measured(server, full_speed, args.clients, length))
    ratios = [
        o["rps"] / b["rps"] if b["rps"] else 0.0
        for o, b in zip(runs["ours"], runs["bare"], strict=True)
    ]
    return combined(runs["ours"]), combined(runs["bare"]), ratios


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


# -- databases and servers --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_postgres(admin_url: str, name: str) -> str:
    if name in ("test", "postgres", "template0", "template1") or not re.fullmatch(
        r"[a-z_][a-z0-9_]*", name
    ):
        raise SystemExit(f"refusing to drop the database {name!r}: pick another --pg-db")
    engine = sa.create_engine(normalise_database_url(admin_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def seed_accounts(engine) -> int:
    """Verified resident accounts for every 4th sender (no password can sign in to them)."""
    now = utcnow()
    rows = [
        {
            "phone": phone,
            "password_hash": "!bench-account-no-sign-in",
            "locale": ACCOUNT_LOCALES[i % len(ACCOUNT_LOCALES)],
            "role": Role.RESIDENT.value,
            "phone_verified_at": now,
            "created_at": now,
            "failed_sign_ins": 0,
        }
        for i, phone in enumerate(SENDERS[::4])
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(User.__table__), rows)
    return len(rows)


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
    second: what the previous database's run left (its server's autovacuum, WAL checkpoints,
    processes still exiting) would otherwise land on the next one's paced phase."""
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
    return f"{time.monotonic() - start:.0f} s, then {idle:.0%} idle"


def app_environment(database_url: str, port: int, spool: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in Settings.__dataclass_fields__}
    env.update(
        APP_ENV="production",
        SECRET_KEY=secrets.token_hex(32),
        ENCRYPTION_KEYS=generate_key(),
        DATABASE_URL=database_url,
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_FROM_NUMBER=OUR_NUMBER,
        SMS_BACKEND="twilio",  # the worker is not running: replies are TwiML only
        RATELIMIT_STORAGE_URI="memory://",
        SMS_SPOOL_DIR=str(spool),
        PYTHONUNBUFFERED="1",
    )
    return env


def tool(name: str) -> str:
    path = BIN / name
    return str(path) if path.exists() else (shutil.which(name) or name)


def start_gunicorn(name: str, module: str, port: int, env: dict, log_path: Path) -> Server:
    log = log_path.open("w")
    process = subprocess.Popen(
        [tool("gunicorn"), *GUNICORN_ARGS, "-b", f"127.0.0.1:{port}", module],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    server = Server(name, port, process, log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
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


def log_problems(path: Path) -> list[str]:
    lines = path.read_text(errors="replace").splitlines()
    marks = ("Traceback", "[ERROR]", " ERROR ", "WARNING")
    return [ln for ln in lines if any(mark in ln for mark in marks)]


# -- one database -----------------------------------------------------------------------------


def run_database(kind: str, args: argparse.Namespace, tmp: Path) -> bool:
    print(f"\n=== {kind} " + "=" * 70)
    spool = tmp / f"{kind}-spool"
    if kind == "sqlite":
        database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    else:
        database_url = fresh_postgres(args.pg_url, args.pg_db)
    port, bare_port = free_port(), free_port()
    env = app_environment(database_url, port, spool)
    migrated = flask_command(env, "db", "upgrade")
    if migrated.returncode != 0:
        raise RuntimeError(f"flask --app wsgi db upgrade failed:\n{migrated.stderr[-3000:]}")
    engine = sa.create_engine(normalise_database_url(database_url))
    accounts = seed_accounts(engine)
    print(f"database: {database_url}  (flask --app wsgi db upgrade; {accounts} accounts)")
    print(f"load average before: {load_average()}  (1, 5, 15 min; {os.cpu_count()} CPUs)")
    ours = start_gunicorn("ours", "wsgi:app", port, env, tmp / f"{kind}-ours.log")
    try:
        bare = start_gunicorn(
            "bare", "bench.bare_twiml:app", bare_port, env, tmp / f"{kind}-bare.log"
        )
    except BaseException:
        stop(ours)
        raise
    try:
        return exercise(ours, bare, engine, lambda: import_spool(env, spool), args)
    finally:
        print(f"  load average after: {load_average()}")
        stop(ours)
        stop(bare)
        engine.dispose()
        problems = log_problems(ours.log_path)
        if problems:
            print(f"  server log: {len(problems)} warning/error lines, e.g. {problems[0][:160]}")


def flask_command(env: dict, *args: str) -> subprocess.CompletedProcess:
    """``flask --app wsgi *args``, as an operator runs it, against the app's database."""
    return subprocess.run([tool("flask"), "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)  # fmt: skip


def import_spool(env: dict, spool: Path) -> tuple[int, int, int]:
    """(spooled, imported, left): the texts the app spooled instead of storing (it answered
    them safely, in time, when the database did not), imported by the command an operator
    runs once the database is back, as they would be."""
    spooled = len(list(spool.glob("*.json"))) if spool.exists() else 0
    imported = 0
    if spooled:
        done = flask_command(env, "sms", "import-spool")
        found = re.search(r"Imported (\d+)", done.stdout)
        imported = int(found.group(1)) if found else 0
    return spooled, imported, len(list(spool.glob("*.json"))) if spool.exists() else 0


def exercise(ours: Server, bare: Server, engine, import_spool, args: argparse.Namespace) -> bool:
    sent: list[Result] = []  # every request to our app, for the row accounting

    header = (
        f"  {'phase':<26}{'requests':>8}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}"
        f"{'p99 ms':>9}{'max ms':>9}{'errors':>8}{'CPU/req':>9}"
    )
    print(header)
    # Warm-up (each worker's first requests import modules and open connections).
    for server in (ours, bare):
        warm, _ = full_speed(server, 4, 1.0)
        if server is ours:
            sent += warm

    print(f"  (waited for the machine to settle: {settle()})")
    paced_s = measured(ours, paced, args.rate, args.seconds)
    sent += paced_s["results"]
    print_row(f"(a) paced {args.rate:g}/s, {args.seconds:g} s", paced_s)

    ours_s, bare_s, round_ratios = alternating_full_speed(ours, bare, args)
    sent += ours_s["results"]
    print_row(f"(b) full speed, ours x{args.clients}", ours_s)
    print_row(f"(b) full speed, bare x{args.clients}", bare_s)
    ratio = ours_s["rps"] / bare_s["rps"] if bare_s["rps"] else 0.0

    # Integrity: what was answered 200 against what the database holds, once the texts that
    # were spooled (if any) are imported.
    spooled, imported, left = import_spool()
    answered = {r.webhook.sid for r in sent if r.status == 200}
    with engine.connect() as conn:
        rows, distinct = conn.execute(
            sa.text("SELECT count(*), count(DISTINCT message_sid) FROM inbound_messages")
        ).one()
        stored = set(conn.scalars(sa.text("SELECT message_sid FROM inbound_messages")))
        mix = conn.execute(
            sa.text(
                "SELECT command, count(*), count(reply) FROM inbound_messages "
                "GROUP BY command ORDER BY count(*) DESC"
            )
        ).all()
    answered_200 = sum(r.status == 200 for r in sent)

    # Replays: Twilio retries with the same MessageSid; nothing new may be stored.
    ok_results = [r for r in sent if r.status == 200]
    originals = random.Random(2).sample(ok_results, min(REPLAYS, len(ok_results)))
    client = Client(ours.port)
    replays = [client.post(r.webhook) for r in originals]
    client.close()
    with engine.connect() as conn:
        rows_after = conn.execute(sa.text("SELECT count(*) FROM inbound_messages")).scalar_one()
    replay_ok = sum(r.status == 200 for r in replays)
    same_reply = sum(a.reply == b.reply for a, b in zip(originals, replays, strict=True))

    checks = {
        "200s == rows": answered_200 == rows and answered == stored,
        "spool imported": imported == spooled and left == 0,
        "no duplicates": distinct == rows,
        "replay adds no row": rows_after == rows,
        "replay same reply": replay_ok == same_reply == REPLAYS,
    }
    print(
        f"\n  requests to our app: {len(sent)} (warm-up included), answered 200: "
        f"{answered_200}, other: {len(sent) - answered_200}"
    )
    print(
        f"  inbound_messages rows: {rows}, distinct message_sid: {distinct}, "
        f"spooled to disk: {spooled} (answered safely, in time, instead; imported after the "
        f"load: {imported}, left: {left})"
    )
    print(
        "  commands stored (with a reply): "
        + ", ".join(f"{command} {n} ({replied})" for command, n, replied in mix)
    )
    if answered != stored:
        print(
            f"  answered 200 but not stored: {len(answered - stored)}; "
            f"stored but not answered 200: {len(stored - answered)}"
        )
    print(
        f"  replayed {len(replays)} sent webhooks: {replay_ok} answered 200, {same_reply} with the "
        f"original reply; rows {rows} -> {rows_after}"
    )

    print("\n  targets")
    print(
        f"  p99 at {args.rate:g} req/s      {paced_s['p99']:>8.1f} ms   target < "
        f"{TARGET_P99_MS:g} ms        {verdict(paced_s['p99'] < TARGET_P99_MS)}"
    )
    print(
        f"  full speed ours/bare   {ratio:>8.1%}      target >= {TARGET_RATIO:.0%}"
        f"            {verdict(ratio >= TARGET_RATIO)}"
        f"   ({ours_s['rps']:.1f} / {bare_s['rps']:.1f} req/s)"
    )
    print(
        f"  (each of the {len(round_ratios)} alternating rounds: "
        + ", ".join(f"{r:.1%}" for r in round_ratios)
        + ")"
    )
    cpu_ratio = bare_s["cpu"] / ours_s["cpu"] if ours_s["cpu"] else float("nan")
    print(
        f"  (server CPU per request, bare/ours: {cpu_ratio:.1%}: "
        f"{bare_s['cpu']:.2f} / {ours_s['cpu']:.2f} ms, less sensitive to other load)"
    )
    for name, ok in checks.items():
        print(f"  {name:<22} {'ok' if ok else 'FAILED'}")
    return all(checks.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sms_load", description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=60, help="paced phase length")
    parser.add_argument("--rate", type=float, default=50, help="paced requests per second")
    parser.add_argument("--full-seconds", type=float, default=60, help="full-speed phase length")
    parser.add_argument("--clients", type=int, default=16, help="full-speed concurrent clients")
    parser.add_argument(
        "--rounds", type=int, default=6, help="alternating full-speed rounds (ours, bare)"
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a maintenance database on the PostgreSQL server (not dropped)",
    )
    parser.add_argument("--pg-db", default="sms_bench", help="dropped and recreated each run")
    args = parser.parse_args(argv)

    print(
        f"SMS webhook load: gunicorn {' '.join(GUNICORN_ARGS)}, {os.cpu_count()} CPUs shared "
        f"with the load generator; paced {args.rate:g} req/s for {args.seconds:g} s, full "
        f"speed {args.clients} clients for {args.full_seconds:g} s each, in {args.rounds} "
        "alternating rounds. Latencies of 200 answers;\n"
        "CPU/req: CPU ms the gunicorn master and workers used per request (not the load "
        "generator, not PostgreSQL's own processes)."
    )
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    ok = True
    with tempfile.TemporaryDirectory(prefix="sms-bench-") as tmp:
        for kind in kinds:
            ok &= run_database(kind, args, Path(tmp))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
