"""What the security middleware (issue 8) costs per request: CPU and queries.

    python bench/middleware_cost.py --database-url sqlite:///PATH [--requests 60 --rounds 5]

Run on a database `bench/bench.py` has seeded (`--db-dir` keeps them). In one process,
the same signed-in session (password + TOTP code, over HTTPS) requests the empty app
page and the section page through several middleware stacks: the full one, the full one
without each of issue 8's middleware (request ids, django-otp with the second-factor
gate, session timeouts, CSP, django-axes), and without all of them. Stacks take turns in
every round, so load from other processes falls on each about equally; the figure is the
median over rounds of CPU ms per request (time.process_time()). Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

# The project root first: `bench` is then the package (bench/urls.py is mounted by
# BENCH_ENDPOINTS=1), and bench/bench.py its module.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench import bench  # noqa: E402

# Issue 8's additions; django-otp's middleware and the gate that reads it go together
# (without the first, no session counts as verified and the gate redirects every page).
ADDED = {
    "request id": ["checklists.request_id.RequestIdMiddleware"],
    "second factor (django-otp + gate)": [
        "django_otp.middleware.OTPMiddleware",
        "accounts.middleware.SecondFactorMiddleware",
    ],
    "session timeouts": ["accounts.middleware.SessionTimeoutMiddleware"],
    "CSP": ["csp.middleware.CSPMiddleware"],
    "django-axes": ["axes.middleware.AxesMiddleware"],
}


def run(requests: int, rounds: int) -> dict:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.urls import reverse

    call_command("collectstatic", interactive=False, verbosity=0)
    user, draft = bench.targets()
    login = bench.https_client()
    bench.log_in(login, user)
    full = list(settings.MIDDLEWARE)
    every_added = [m for ms in ADDED.values() for m in ms]
    stacks = {"full stack": full}
    for name, removed in ADDED.items():
        stacks[f"without {name}"] = [m for m in full if m not in removed]
    stacks["without all of issue 8's"] = [m for m in full if m not in every_added]
    pages = {
        "empty app page": reverse("bench_empty"),
        "section page": reverse("section", args=[draft.pk, "individual_variability"]),
    }
    clients = {}
    for name, stack in stacks.items():
        client = bench.https_client()
        client.cookies = login.cookies  # the same verified session
        with override_settings(MIDDLEWARE=stack):
            client.get(pages["empty app page"])  # builds this client's middleware chain now
        clients[name] = client
    cpu = {(s, p): [] for s in stacks for p in pages}
    queries = {}
    for name, client in clients.items():
        for page, url in pages.items():
            for _ in range(3):
                assert client.get(url).status_code == 200, (name, page)
            with CaptureQueriesContext(connection) as captured:
                client.get(url)
            queries[name, page] = len(captured)
    for _ in range(rounds):
        for name, client in clients.items():
            for page, url in pages.items():
                started = time.process_time()
                for _ in range(requests):
                    client.get(url)
                cpu[name, page].append((time.process_time() - started) / requests * 1000)
    return {
        name: {
            page: {
                "cpu_ms": round(statistics.median(cpu[name, page]), 2),
                "queries": queries[name, page],
            }
            for page in pages
        }
        for name in stacks
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    bench.setup_django(args.database_url)
    results = run(args.requests, args.rounds)
    full = results["full stack"]
    print(f"{args.rounds} rounds x {args.requests} requests, median CPU ms per request")
    print("| middleware stack | empty page ms | queries | section page ms | queries |")
    print("|---|---|---|---|---|")
    for name, row in results.items():
        cells = []
        for page in ("empty app page", "section page"):
            delta = row[page]["cpu_ms"] - full[page]["cpu_ms"]
            shown = f"{row[page]['cpu_ms']:.2f}"
            if name != "full stack":
                shown += f" ({delta:+.2f})"
            cells += [shown, str(row[page]["queries"])]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(json.dumps(results), file=sys.stderr)


if __name__ == "__main__":
    main()
