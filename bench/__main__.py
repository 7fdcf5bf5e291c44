"""Benchmarks: ``make bench`` (or ``python -m bench``) prints the figures.

Pages: weight of each public page (HTML + CSS, raw and gzip-compressed) against the 30 KB
budget, and server-side render latency (p50/p95) through the WSGI stack on SQLite.
"""

from __future__ import annotations

import gzip
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade

from webapp import create_app
from webapp.extensions import db
from webapp.i18n import LOCALE_CODES

PAGES = ["/", "/terms", "/privacy", "/account/sign-up", "/account/sign-in", "/account/reset",
         "/cameras/check"]  # fmt: skip
BUDGET = 30 * 1024
ROUNDS = 200


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "APP_ENV": "testing",
                "SECRET_KEY": "bench-" + "x" * 40,
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                "RATELIMIT_ENABLED": False,
            }
        )
        with app.app_context():
            upgrade()
        client = app.test_client()
        css = client.get("/static/css/site.css")
        css_body = css.get_data()
        css.close()
        print(f"{'page':<22}{'locale':<9}{'requests':>9}{'raw KB':>9}{'gzip KB':>9}{'budget':>8}")
        worst = 0
        for path in PAGES:
            for locale in LOCALE_CODES:
                html = client.get(f"{path}?lang={locale}").get_data()
                assets = re.findall(rb'(?:href|src)="(/static/[^"]+)"', html)
                raw = len(html) + len(css_body)
                packed = len(gzip.compress(html)) + len(gzip.compress(css_body))
                worst = max(worst, packed)
                ok = "ok" if packed <= BUDGET and 1 + len(assets) <= 3 else "OVER"
                print(
                    f"{path:<22}{locale:<9}{1 + len(assets):>9}"
                    f"{raw / 1024:>9.1f}{packed / 1024:>9.1f}{ok:>8}"
                )
        print(f"\nheaviest page, transferred (gzip): {worst / 1024:.1f} KB of {BUDGET // 1024} KB")
        print(f"\n{'render latency':<22}{'p50 ms':>9}{'p95 ms':>9}  ({ROUNDS} requests each)")
        for path in PAGES:
            timings = []
            for _ in range(ROUNDS):
                start = time.perf_counter()
                client.get(path).close()
                timings.append((time.perf_counter() - start) * 1000)
            print(f"{path:<22}{percentile(timings, 50):>9.2f}{percentile(timings, 95):>9.2f}")
        with app.app_context():
            db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
