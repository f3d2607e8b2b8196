"""PostgreSQL restarts under load; the app recovers by itself.

    python bench/pg_restart.py [--database-url postgres://...] [--port 8741]

Serves the app with gunicorn (gthread, persistent connections with health checks)
against a scratch PostgreSQL database, drives logged-in requests (the case list and
/healthz) from 4 threads in a loop on 127.0.0.1, restarts the cluster with
`pg_ctlcluster VERSION NAME restart` (found with pg_lsclusters) after 3 s, and keeps
going for 12 s after the restart returns. Bounded: at most 30 s of load and 3,000
requests. Passes (exit 0) when every request started 5 s after the restart returned
succeeded, and there was at least one success after the restart.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _serve  # noqa: E402

LOAD_BEFORE_S, LOAD_AFTER_S, MAX_S, MAX_REQUESTS, GRACE_S = 3, 12, 30, 3000, 5


def find_cluster(port: int) -> tuple[str, str]:
    listing = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True)  # noqa: S607
    for line in listing.stdout.splitlines():
        version, name, cluster_port, *_ = line.split()
        if int(cluster_port) == port:
            return version, name
    raise SystemExit(f"no PostgreSQL cluster on port {port} in pg_lsclusters")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--port", type=int, default=8741)
    parser.add_argument("--phase", choices=["all", "setup"], default="all")
    args = parser.parse_args()
    if args.phase == "setup":
        _serve.setup_django()
        print(json.dumps(_serve.prepare(1)))
        return

    url = args.database_url or _serve.DEFAULT_PG
    _serve.ensure_database(url)
    env = _serve.server_env(url)
    prepared = _serve.django_phase(__file__, "setup", env)
    version, name = find_cluster(urllib.parse.urlparse(url).port or 5432)
    server = _serve.start_gunicorn(args.port, env)
    results = []  # (started monotonic, path, status or error text)
    lock = threading.Lock()
    stop_at = [time.monotonic() + MAX_S]
    try:
        client = _serve.Client(args.port)
        client.login(prepared["totp_key"])

        def drive(n: int) -> None:
            mine = _serve.Client(args.port, client.cookies)
            path = "/cases/" if n % 2 == 0 else "/healthz"
            while time.monotonic() < stop_at[0]:
                with lock:
                    if len(results) >= MAX_REQUESTS:
                        return
                started = time.monotonic()
                try:
                    status = mine.get(path, timeout=10)[0]
                except Exception as error:  # a refused or reset connection is a result
                    status = type(error).__name__
                with lock:
                    results.append((started, path, status))
                time.sleep(0.02)

        threads = [threading.Thread(target=drive, args=(n,)) for n in range(4)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(LOAD_BEFORE_S)
        restart_began = time.monotonic()
        subprocess.run(["pg_ctlcluster", version, name, "restart"], check=True)  # noqa: S603,S607
        restarted = time.monotonic()
        stop_at[0] = min(stop_at[0], restarted + LOAD_AFTER_S)
        for thread in threads:
            thread.join()
    finally:
        _serve.stop(server)

    def summary(rows):
        ok = sum(1 for r in rows if r[2] == 200)
        return f"{ok}/{len(rows)} ok"

    before = [r for r in results if r[0] < restart_began]
    during = [r for r in results if restart_began <= r[0] < restarted + GRACE_S]
    after = [r for r in results if r[0] >= restarted + GRACE_S]
    first_ok = min((r[0] for r in results if r[0] >= restarted and r[2] == 200), default=None)
    failures = sorted({str(r[2]) for r in during if r[2] != 200})
    print(f"cluster {version}/{name} restarted in {restarted - restart_began:.2f} s")
    print(f"requests: {len(results)} in {time.monotonic() - began:.1f} s, 4 threads")
    print(f"before the restart: {summary(before)}")
    print(f"restart .. +{GRACE_S} s: {summary(during)} (failures: {', '.join(failures) or 'none'})")
    print(f"from +{GRACE_S} s on: {summary(after)}")
    if first_ok is not None:
        print(f"first success after the restart returned: +{first_ok - restarted:.2f} s")
    passed = after and all(r[2] == 200 for r in after) and first_ok is not None
    print("recovered by itself:", "yes" if passed else "NO")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
