"""Lighthouse on the pages a clinician spends an intake on, served as `make run` serves them.

    python bench/lighthouse.py [--runs 3] [--cases 60] [--out docs/lighthouse.md]

`make lighthouse` runs this. In a scratch SQLite database it does what `make run` does
(DJANGO_DEBUG=0 DJANGO_DEMO=1: migrate, load_default_content, seed_demo --cases 60 --seed 1,
collectstatic, runserver with WhiteNoise), on a free loopback port. A session for the demo
clinician is written straight into the session table (demo mode asks no second factor) and
Lighthouse sends it as a Cookie header, so the pages are the signed-in ones and no password
travels. Pages: the case list, a section page and the review page of the clinician's first
draft (the draft bench.py times). Each page is run --runs times and the run with the median
performance score is kept (Lighthouse's own advice: single runs vary by a few points).

Lighthouse comes from the npm registry, pinned in bench/lighthouse/package.json and installed
there (node_modules is git-ignored), never globally; it drives Debian's Chromium
(CHROMIUM_PATH, else `chromium` on PATH: `make system` installs it). Default settings: a
mid-range phone, simulated slow 4G and 4x CPU slowdown. Loopback serves in no time, so
performance measures what the page asks of the network and the browser (bytes, what blocks
rendering, script), not the server.

The last run replaces the part of --out below the marker line; the HTML reports land in
lighthouse-results/ (git-ignored). Exit status 1 when a page misses the goal (issue 18):
accessibility and best practices 1.0, performance at least 0.98.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "bench" / "lighthouse"
LIGHTHOUSE = NODE_DIR / "node_modules" / ".bin" / "lighthouse"
RESULTS = ROOT / "lighthouse-results"
MARKER = "<!-- make lighthouse writes below this line; the text above is kept. -->"
CATEGORIES = ["performance", "accessibility", "best-practices"]
GOALS = {"performance": 0.98, "accessibility": 1.0, "best-practices": 1.0}
METRICS = ["first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
           "cumulative-layout-shift", "speed-index"]  # fmt: skip
CHROME_FLAGS = "--headless --no-sandbox --disable-gpu --disable-background-networking"


def demo_env(database_url: str) -> dict:
    """`make run`'s environment: demo mode without DEBUG; any other DJANGO_* is dropped."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_DEBUG="0", DJANGO_DEMO="1", DATABASE_URL=database_url,
               DEMO_PASSWORD=secrets.token_urlsafe(12), DJANGO_LOG_LEVEL="WARNING")  # fmt: skip
    return env


def manage(env: dict, *args: str) -> None:
    # Our own interpreter and manage.py, with arguments we built: nothing untrusted.
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,  # noqa: S603
                   stdout=subprocess.DEVNULL)  # fmt: skip


def session_and_pages() -> dict:
    """(In the server's database) the demo clinician's session key and the three pages."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from checklists.models import ChecklistResponse

    user = get_user_model().objects.get(username="clinician")
    draft = (
        ChecklistResponse.objects.visible_to(user)
        .filter(status="draft", answers__item__key="current_medications")
        .order_by("pk")
        .first()
    )
    client = Client()
    client.force_login(user)
    return {
        "cookie": f"{settings.SESSION_COOKIE_NAME}={client.session.session_key}",
        "pages": {
            "case list": reverse("case_list"),
            "section page": reverse("section", args=[draft.pk, "individual_variability"]),
            "review page": reverse("review", args=[draft.pk]),
        },
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, cookie: str) -> int:
    request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310 (loopback)
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        answer.read()
        return answer.status


def wait_until_up(base: str, server: subprocess.Popen) -> None:
    for _ in range(150):
        if server.poll() is not None:
            sys.exit("the server stopped while starting (lighthouse-results/server.log)")
        try:
            if get(base + "/healthz", "") == 200:
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("the server did not answer /healthz within 30 s")


def lighthouse(url: str, cookie: str, chromium: str, path: Path) -> dict:
    headers = json.dumps({"Cookie": cookie})
    command = [str(LIGHTHOUSE), url, f"--only-categories={','.join(CATEGORIES)}",
               f"--chrome-flags={CHROME_FLAGS}", f"--extra-headers={headers}",
               "--output=json", "--output=html", f"--output-path={path}", "--quiet"]  # fmt: skip
    subprocess.run(command, env={**os.environ, "CHROME_PATH": chromium}, check=True)  # noqa: S603
    return json.loads(path.with_suffix(".report.json").read_text())


def measure(base: str, cookie: str, pages: dict, runs: int, chromium: str) -> dict:
    """Per page, the report of the run with the median performance score."""
    kept = {}
    for name, path in pages.items():
        # Warm-up: the process's first request reads the knowledge base into memory.
        assert get(base + path, cookie) == 200, (name, "not signed in")
        reports = [
            lighthouse(base + path, cookie, chromium, RESULTS / f"{name.replace(' ', '-')}-{n}")
            for n in range(1, runs + 1)
        ]
        scores = [report["categories"]["performance"]["score"] for report in reports]
        report = reports[scores.index(statistics.median_low(scores))]
        kept[name] = {"report": report, "runs": scores}
    return kept


def failing_audits(report: dict) -> list[str]:
    """What costs points (a weighted audit below 1), then Lighthouse's hints on the way to
    better metrics (the unweighted audits it estimates savings for, such as render-blocking
    or uncompressed files; its newer "insights" repeat them and are left out)."""
    costs, hints = [], []
    for category in CATEGORIES:
        for ref in report["categories"][category]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if audit["score"] is None or audit["score"] >= 1 or ref["id"].endswith("-insight"):
                continue
            line = f"`{ref['id']}` {audit['score']:g} {audit.get('displayValue', '')}".rstrip()
            if ref.get("weight", 0) > 0:
                costs.append(f"{category}: {line}")
            elif audit["scoreDisplayMode"] == "metricSavings":
                hints.append(f"hint: {line}")
    return costs + hints


def markdown(kept: dict, runs: int, cases: int, browser: str) -> tuple[str, list[str]]:
    any_report = next(iter(kept.values()))["report"]
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"## Last run: {today}", "",
           f"`make lighthouse`: Lighthouse {any_report['lighthouseVersion']}, {browser}, "
           "mobile emulation, simulated throttling; `make run`'s server with "
           f"{cases} seeded cases; {runs} run(s) per page, the median by performance kept "
           "(all runs' performance shown).",
           "", "| page | performance | accessibility | best practices | runs' performance | "
           "FCP | LCP | TBT | CLS | Speed Index |", "|---" * 10 + "|"]  # fmt: skip
    missed = []
    for name, entry in kept.items():
        report = entry["report"]
        scores = {c: report["categories"][c]["score"] for c in CATEGORIES}
        metrics = [report["audits"][m]["displayValue"] for m in METRICS]
        out.append(f"| {name} | " + " | ".join(f"{scores[c]:.2f}" for c in CATEGORIES)
                   + f" | {', '.join(f'{s:.2f}' for s in entry['runs'])} | "
                   + " | ".join(metrics) + " |")  # fmt: skip
        missed += [f"{name} {c} {scores[c]:.2f} < {g}" for c, g in GOALS.items() if scores[c] < g]
    out += ["", "What cost points, then Lighthouse's hints (audit, score, its figure):", ""]
    for name, entry in kept.items():
        audits = failing_audits(entry["report"])
        out.append(f"- {name}: " + ("; ".join(audits) if audits else "nothing"))
    goal = "met" if not missed else "MISSED: " + "; ".join(missed)
    out += ["", f"Goal (accessibility and best practices 1.0, performance ≥ 0.98): {goal}.", ""]
    # Lighthouse's figures carry no-break spaces ("1.4\xa0s"): plain ones read the same.
    return "\n".join(out).replace("\xa0", " "), missed


def write(out: Path, text: str) -> None:
    kept = out.read_text().split(MARKER)[0] if out.exists() else "# Lighthouse\n\n"
    out.write_text(kept.rstrip("\n") + "\n\n" + MARKER + "\n\n" + text)


def run(args) -> int:
    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not chromium:
        sys.exit("Chromium is missing: `make system` installs it (or set CHROMIUM_PATH).")
    if not LIGHTHOUSE.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],  # noqa: S607
                       cwd=NODE_DIR, check=True)  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lighthouse-") as work:
        env = demo_env(f"sqlite:///{work}/demo.sqlite3")
        manage(env, "migrate", "--noinput")
        manage(env, "load_default_content")
        manage(env, "seed_demo", "--cases", str(args.cases), "--seed", "1")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        found = subprocess.run([sys.executable, __file__, "--phase", "session"], env=env,  # noqa: S603
                               check=True, capture_output=True, text=True)  # fmt: skip
        target = json.loads(found.stdout.strip().splitlines()[-1])
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with open(RESULTS / "server.log", "w") as log:
            server = subprocess.Popen(  # noqa: S603
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                wait_until_up(base, server)
                kept = measure(base, target["cookie"], target["pages"], args.runs, chromium)
            finally:
                server.terminate()
                server.wait(timeout=20)
    version = subprocess.run([chromium, "--version"], capture_output=True, text=True)  # noqa: S603
    text, missed = markdown(kept, args.runs, args.cases, " ".join(version.stdout.split()[:2]))
    write(Path(args.out), text)
    print(text)
    return 1 if missed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page")
    parser.add_argument("--cases", type=int, default=60, help="seed_demo --cases, as make run")
    parser.add_argument("--out", default=str(ROOT / "docs" / "lighthouse.md"))
    parser.add_argument("--phase", choices=["all", "session"], default="all")
    args = parser.parse_args()
    if args.phase == "session":
        print(json.dumps(session_and_pages()))
        return
    sys.exit(run(args))


if __name__ == "__main__":
    main()
