"""Scale and concurrency: SQLite under several writers, and the bulk demo seed."""

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection

from checklists.cases.drafts import save_section
from checklists.models import (
    Acknowledgement,
    Answer,
    AuditEvent,
    ChecklistResponse,
    MedicationEntry,
    PatientCase,
    Team,
)

from .factories import load_knowledge, make_case, make_response, make_team, make_user


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_writers_never_see_database_is_locked(version):
    """8 threads each save their own draft 10 times through save_section, all at once: on a
    file SQLite database (WAL, IMMEDIATE) they queue instead of failing."""
    load_knowledge()
    team = make_team()
    users = [make_user(f"writer{n}", teams=[team]) for n in range(8)]
    responses = [make_response(make_case(team, u), u) for u in users]
    section = responses[0].version.sections.get(key="individual_variability")
    barrier = threading.Barrier(8)
    errors = []

    def write(n):
        try:
            barrier.wait()
            response = responses[n]
            for round_number in range(10):
                response.refresh_from_db(fields=["lock_version"])
                save_section(
                    response=response,
                    section=section,
                    user=users[n],
                    values={"age_years": round_number + 20},
                    lock_version=response.lock_version,
                )
        except Exception as error:  # collected and asserted below
            errors.append(repr(error))
        finally:
            connection.close()  # the thread's own connection, so teardown can drop the DB

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert connection.vendor in ("sqlite", "postgresql")
    ages = Answer.objects.filter(item__key="age_years", response__in=responses)
    assert sorted(a.value for a in ages) == [29] * 8
    assert AuditEvent.objects.filter(action="section_saved").count() == 80


def _seed(settings, monkeypatch, cases, seed=3):
    from checklists.demo import bulk as demo_bulk
    from checklists.demo import cases as demo_cases

    settings.DEMO_MODE = True
    monkeypatch.setenv("DEMO_PASSWORD", "demo password for tests")
    # Few prototypes, so the bulk copies start early and the test stays quick.
    monkeypatch.setattr(demo_cases, "PROTOTYPES", 12)
    monkeypatch.setattr(demo_bulk, "BATCH", 7)
    call_command("load_default_content", stdout=io.StringIO())
    call_command("seed_demo", cases=cases, seed=seed, stdout=io.StringIO())


def _dump():
    """Everything but ids and timestamps, in a stable order."""
    cases = PatientCase.objects.order_by("reference")
    return [
        (
            c.team.name,
            c.reference,
            c.birth_year,
            c.jurisdiction,
            c.follow_up_due,
            c.created_by.username,
            [
                (
                    r.status,
                    r.revision,
                    r.amends.revision if r.amends else None,
                    r.flags_snapshot,
                    sorted((a.item.key, repr(a.value)) for a in r.answers.all()),
                    sorted((a.flag_code, a.reason) for a in r.acknowledgements.all()),
                    [(m.name_as_typed, m.matched_name) for m in r.medications.all()],
                )
                for r in c.responses.order_by("revision")
            ],
            sorted(AuditEvent.objects.filter(case_id=c.pk).values_list("action", "username")),
        )
        for c in cases
    ]


@pytest.mark.django_db
def test_bulk_seed_is_the_same_for_the_same_seed(settings, monkeypatch):
    _seed(settings, monkeypatch, 40)
    assert PatientCase.objects.count() == 40
    assert Team.objects.filter(name__startswith="Synthetic Clinic").exists()
    first = _dump()
    call_command("seed_demo", cases=40, seed=3, stdout=io.StringIO())  # adds nothing
    assert PatientCase.objects.count() == 40
    for model in (AuditEvent, Acknowledgement, MedicationEntry, Answer):
        model.objects.all()._raw_delete(model.objects.db)
    ChecklistResponse.objects.filter(amends__isnull=False).delete()
    ChecklistResponse.objects.all().delete()
    PatientCase.objects.all().delete()
    call_command("seed_demo", cases=40, seed=3, stdout=io.StringIO())
    assert _dump() == first


@pytest.mark.django_db
def test_bulk_seeded_checklists_are_valid(settings, monkeypatch):
    _seed(settings, monkeypatch, 150, seed=5)
    statuses = set(ChecklistResponse.objects.values_list("status", flat=True))
    assert statuses == {"draft", "signed", "superseded"}
    assert MedicationEntry.objects.exists()
    for response in ChecklistResponse.objects.exclude(status="draft").prefetch_related(
        "acknowledgements"
    ):
        assert response.signed_by_id and response.signed_at and response.flags_snapshot
        serious = {
            f["code"]
            for f in response.flags_snapshot
            if f["severity"] in ("contraindicated", "major")
        }
        assert serious <= {a.flag_code for a in response.acknowledgements.all()}
        assert response.answers.exists()
        # Each case's team member did the work.
        assert response.case.team.members.filter(pk=response.signed_by_id).exists()
    for superseded in ChecklistResponse.objects.filter(status="superseded"):
        assert superseded.amended_by.status == "signed"
        assert superseded.amended_by.revision == superseded.revision + 1
    for draft in ChecklistResponse.objects.filter(status="draft"):
        assert not draft.flags_snapshot and draft.signed_by_id is None
    # Audit trail: one case_created per case, one checklist_started per response.
    assert AuditEvent.objects.filter(action="case_created").count() == PatientCase.objects.count()
    assert (
        AuditEvent.objects.filter(action="checklist_started").count()
        == ChecklistResponse.objects.filter(amends__isnull=True).count()
    )


@pytest.mark.django_db
def test_the_benchmark_page_is_not_mounted_by_default(client):
    assert client.get("/_bench/fortunes").status_code == 404


def test_the_benchmark_pages_come_from_the_bench_package_when_switched_on():
    """The bench views live beside the benchmark tools, not in clinic/ (project wiring)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "BENCH_ENDPOINTS": "1", "DJANGO_ALLOWED_HOSTS": "127.0.0.1"}
    code = (
        "import django; django.setup(); from django.urls import resolve; "
        "print(resolve('/_bench/fortunes').func.__module__, resolve('/_bench/empty').url_name)"
    )
    done = subprocess.run(  # noqa: S603 (our interpreter, fixed arguments)
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "clinic.settings"},
        capture_output=True,
        text=True,
    )
    assert done.stdout.split() == ["bench.views", "bench_empty"], done.stderr


def test_the_benchmark_page_is_refused_outside_loopback():
    import os
    import subprocess
    import sys

    env = {**os.environ, "BENCH_ENDPOINTS": "1", "DJANGO_ALLOWED_HOSTS": "clinic.example.org"}
    env["DJANGO_DEBUG"] = "0"
    done = subprocess.run(  # noqa: S603 (our interpreter, fixed arguments)
        [sys.executable, "-c", "import django; django.setup()"],
        env={**env, "DJANGO_SETTINGS_MODULE": "clinic.settings"},
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "loopback" in done.stderr
