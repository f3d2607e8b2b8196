"""Memory and first-byte benchmark of the streamed /exports/responses.csv.

    python bench/export_mem.py [--responses 50000]

Seeds a scratch database (SQLite in a temporary folder, or $BENCH_DATABASE_URL) with N
responses by bulk_create, then, in a fresh process (so seeding does not inflate it),
serves the CSV through Django's test client exactly as a request would be served:
idle RSS after a warm-up export, then the peak RSS (VmHWM, reset before the run) while
the whole streamed body is consumed, and the time to the first chunk. The same export
buffered into one bytes object is measured afterwards for contrast.

Targets (issue 6): peak at most 20 MB above idle, first byte within 1 s.
Not a test: numbers depend on the machine; run it and record them in the README.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEAM, USERNAME = "Bench Clinic", "bench-supervisor"
FLAGS = [
    {
        "code": "interaction:kratom:opioid-agonists",
        "category": "interaction",
        "severity": "major",
        "title": "Kratom with an opioid",
        "advice": "Treat the combination as high risk.",
        "sources": ["A source (2024)"],
    },
    {
        "code": "variability:melatonin:any",
        "category": "variability",
        "severity": "minor",
        "title": "Start low",
        "advice": "Start with the lowest dose.",
        "sources": [],
    },
]


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_DEBUG"] = "0"  # DEBUG would keep every query in memory
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 50)
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    os.environ["DJANGO_SETTINGS_MODULE"] = "clinic.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def seed(count: int) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from checklists.models import (
        ChecklistResponse,
        ChecklistTemplate,
        PatientCase,
        Team,
        TemplateVersion,
    )
    from checklists.roles import SUPERVISOR, ensure_roles

    call_command("migrate", verbosity=0)
    team = Team.objects.create(name=TEAM)
    user = get_user_model().objects.create_user(USERNAME)
    user.groups.add(ensure_roles()[SUPERVISOR])
    team.members.add(user)
    template = ChecklistTemplate.objects.create(
        slug="bench", title="Bench checklist", canonical_url="https://example.org/Questionnaire/b"
    )
    version = TemplateVersion.objects.create(template=template, number=1, content_hash="h" * 64)
    now = timezone.now()
    for start in range(0, count, 5000):
        size = min(5000, count - start)
        cases = PatientCase.objects.bulk_create(
            PatientCase(team=team, reference=f"B-{start + n:07d}", created_by=user)
            for n in range(size)
        )
        ChecklistResponse.objects.bulk_create(
            ChecklistResponse(
                case=case,
                version=version,
                status="draft" if n % 10 == 0 else "signed",
                started_by=user,
                started_at=now,
                updated_at=now,
                signed_by=None if n % 10 == 0 else user,
                signed_at=None if n % 10 == 0 else now,
                flags_snapshot=[] if n % 10 == 0 else FLAGS,
            )
            for n, case in enumerate(cases)
        )


def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> None:
    # Writing 5 to clear_refs resets VmHWM (the peak RSS) to the current RSS (Linux >= 4.0).
    Path("/proc/self/clear_refs").write_text("5")


def stream(count: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    class HttpsClient(Client):  # outside debug, plain HTTP is only a redirect to https
        def generic(self, *args, **kwargs):
            return super().generic(*args, **{**kwargs, "secure": True})

    user = get_user_model().objects.get(username=USERNAME)
    client = HttpsClient()
    client.force_login(user)
    # Past the second factor, as tests/conftest.py's verify_session does: the session is
    # marked verified by the user's authenticator app (the login pages are not measured).
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    url = reverse("export_responses_csv")
    for _ in range(2):  # warm-up: imports, template and URL caches, one full small export
        b"".join(client.get(url + "?status=superseded").streaming_content)
    gc.collect()
    idle = rss_mb()
    reset_peak()

    started = time.perf_counter()
    answer = client.get(url)
    chunks = iter(answer.streaming_content)
    first = next(chunks)
    first_byte = time.perf_counter() - started
    size, lines, count_chunks = len(first), first.count(b"\r\n"), 1
    for chunk in chunks:
        size += len(chunk)
        lines += chunk.count(b"\r\n")
        count_chunks += 1
    streamed_s = time.perf_counter() - started
    peak = rss_mb("VmHWM")
    assert lines - 1 == count, f"{lines - 1} rows for {count} responses"

    del answer, chunks, first
    gc.collect()
    reset_peak()
    before = rss_mb()
    started = time.perf_counter()
    body = b"".join(client.get(url).streaming_content)
    buffered_s = time.perf_counter() - started
    buffered_peak = rss_mb("VmHWM")
    assert len(body) == size
    return {
        "responses": count,
        "csv_mb": round(size / 2**20, 1),
        "chunks": count_chunks,
        "idle_rss_mb": round(idle, 1),
        "peak_rss_mb": round(peak, 1),
        "peak_over_idle_mb": round(peak - idle, 1),
        "first_byte_s": round(first_byte, 3),
        "streamed_total_s": round(streamed_s, 2),
        "buffered_peak_over_idle_mb": round(buffered_peak - before, 1),
        "buffered_total_s": round(buffered_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=50_000)
    parser.add_argument("--phase", choices=["all", "seed", "stream"], default="all")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()

    if args.phase == "all":
        with tempfile.TemporaryDirectory() as scratch:
            database_url = args.database_url or f"sqlite:///{scratch}/bench.sqlite3"
            common = [sys.executable, __file__, "--responses", str(args.responses)]
            common += ["--database-url", database_url]
            started = time.perf_counter()
            # Our own interpreter and script, with arguments we built: nothing untrusted.
            subprocess.run([*common, "--phase", "seed"], check=True)  # noqa: S603
            print(f"seeded {args.responses} responses in {time.perf_counter() - started:.1f} s")
            result = subprocess.run(  # noqa: S603
                [*common, "--phase", "stream"], check=True, capture_output=True, text=True
            )
        figures = json.loads(result.stdout)
        print(json.dumps(figures, indent=2))
        ok = figures["peak_over_idle_mb"] <= 20 and figures["first_byte_s"] <= 1
        print("targets (peak <= idle + 20 MB, first byte <= 1 s):", "met" if ok else "MISSED")
        sys.exit(0 if ok else 1)

    setup_django(args.database_url)
    if args.phase == "seed":
        seed(args.responses)
    else:
        print(json.dumps(stream(args.responses)))


if __name__ == "__main__":
    main()
