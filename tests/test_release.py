"""Knowledge releases (issue 17, "an existing installation gets the new content as a draft
to approve"): a new installation loads the knowledge files at once; one that runs other
files records them as a release that changes nothing until an editor approves it."""

import datetime
import io
import json
import shutil

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checklists import screening
from checklists.authoring import files, release
from checklists.authoring.workflow import WorkflowRefused
from checklists.models import (
    AuditEvent,
    ContentRelease,
    DecidedReleaseError,
    InteractionRule,
)

from .conftest import HttpsClient, login

pytestmark = pytest.mark.django_db
OPIOID = "interaction:kratom:opioid-agonists"
ON = datetime.date(2026, 11, 30)


@pytest.fixture
def content(tmp_path):
    """A copy of the content directory that a test may edit, as a deploy would bring."""
    copy = tmp_path / "content"
    shutil.copytree(files.CONTENT_DIR, copy)
    return copy


def edit(directory, relative: str, change) -> None:
    path = directory / relative
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


def opioid_rule_says(severity: str, advice: str):
    def change(rows):
        row = next(r for r in rows if r["code"] == OPIOID)
        row.update(severity=severity, advice=advice)

    return change


def opioid_severity() -> str:
    intake = {"substances": ["kratom"], "medications": ["oxycodone"]}
    result = screening.screen(screening.parse_intake(intake, today=ON))
    return next(f.severity for f in result.raw if f.code == OPIOID)


def approve_page(client, pending, step="approve", comment=""):
    url = f"/admin/checklists/contentrelease/{pending.pk}/decide/{step}/"
    return client.post(url, {"comment": comment})


# ------------------------------------------------------------------ the deploy's step


def test_the_test_database_runs_the_files_as_their_release():
    """The suite's knowledge was loaded as a new installation loads it (tests/factories)."""
    current = ContentRelease.objects.current()
    assert current.digest == release.digest_of(release.read_files())
    assert current.decided_by is None and current.rows_loaded > 1000


def test_loading_the_same_files_again_costs_a_few_queries_and_changes_nothing():
    before = ContentRelease.objects.count()
    with CaptureQueriesContext(connection) as queries:
        outcome = release.record_release()
    assert outcome.what == "unchanged" and ContentRelease.objects.count() == before
    assert len(queries) <= 4, [q["sql"][:80] for q in queries]


def test_changed_files_wait_for_approval_and_screening_is_unchanged(content):
    edit(content, "knowledge/interactions.json", opioid_rule_says("minor", "Changed advice."))
    outcome = release.record_release(content)
    assert outcome.what == "recorded"
    pending = outcome.release
    assert pending.status == ContentRelease.Status.PENDING
    assert pending.changes["files"] == {
        "knowledge/interactions.json": {
            "added": [],
            "changed": [OPIOID],
            "removed": [],
            "fields": {OPIOID: ["advice", "severity"]},
        }
    }
    assert InteractionRule.objects.get(code=OPIOID).severity == "major"
    assert opioid_severity() == "major"
    event = AuditEvent.objects.get(action=AuditEvent.Action.RELEASE_RECORDED)
    assert event.detail["rows_to_review"] == 1


def test_recording_the_same_files_twice_keeps_one_pending_release(content):
    edit(content, "knowledge/interactions.json", opioid_rule_says("minor", "Changed."))
    first = release.record_release(content)
    again = release.record_release(content)
    assert (first.what, again.what) == ("recorded", "pending")
    assert ContentRelease.objects.pending().count() == 1


def test_a_later_release_supersedes_the_pending_one(content):
    edit(content, "knowledge/interactions.json", opioid_rule_says("minor", "First."))
    first = release.record_release(content).release
    edit(content, "knowledge/interactions.json", opioid_rule_says("moderate", "Second."))
    second = release.record_release(content).release
    first.refresh_from_db()
    assert first.status == ContentRelease.Status.SUPERSEDED
    assert list(ContentRelease.objects.pending()) == [second]


def test_a_new_legal_row_is_named_by_place_substance_and_date(content):
    def add_row(rows):
        row = dict(next(r for r in rows if r["jurisdiction"] == "US-TN"))
        rows.append({**row, "effective_from": "2027-01-01"})

    edit(content, "legal/statuses.json", add_row)
    pending = release.record_release(content).release
    assert pending.changes["files"]["legal/statuses.json"]["added"] == ["US-TN/kratom/2027-01-01"]


def test_the_command_says_the_release_waits(content, monkeypatch):
    edit(content, "knowledge/interactions.json", opioid_rule_says("minor", "Changed."))
    monkeypatch.setattr(files, "CONTENT_DIR", content)
    out = io.StringIO()
    call_command("load_default_content", stdout=out)
    assert "waits for an editor's approval" in out.getvalue()
    assert "1 rows to review" in out.getvalue()
    assert InteractionRule.objects.get(code=OPIOID).severity == "major"


# ------------------------------------------------------------------ the editor's step


@pytest.fixture
def pending(content):
    edit(content, "knowledge/interactions.json", opioid_rule_says("moderate", "Reworded advice."))
    return release.record_release(content).release


def test_an_editor_approves_and_the_next_screening_uses_it(pending, second_editor):
    client = login(HttpsClient(), second_editor)
    page = client.get(f"/admin/checklists/contentrelease/{pending.pk}/change/")
    assert page.status_code == 200
    assert f"{OPIOID} (advice, severity)" in page.text and "Approve and load" in page.text
    answer = approve_page(client, pending)
    assert answer.status_code == 302
    pending.refresh_from_db()
    assert pending.status == ContentRelease.Status.APPLIED
    assert pending.decided_by == second_editor and pending.rows_loaded == 1
    assert ContentRelease.objects.current() == pending
    rule = InteractionRule.objects.get(code=OPIOID)
    assert (rule.severity, rule.advice) == ("moderate", "Reworded advice.")
    assert opioid_severity() == "moderate"
    event = AuditEvent.objects.get(action=AuditEvent.Action.RELEASE_APPLIED)
    assert event.user == second_editor and event.detail["rows"] == 1


def test_approval_loads_the_recorded_files_not_what_the_disk_holds_later(pending, content):
    from .factories import make_editor

    edit(content, "knowledge/interactions.json", opioid_rule_says("info", "Later edit."))
    release.approve_release(release=pending, user=make_editor("approver"))
    assert InteractionRule.objects.get(code=OPIOID).severity == "moderate"


def test_a_rejection_needs_a_reason_and_changes_nothing(pending, second_editor, content):
    client = login(HttpsClient(), second_editor)
    assert approve_page(client, pending, "reject").status_code == 302
    pending.refresh_from_db()
    assert pending.is_pending
    assert approve_page(client, pending, "reject", "Grading not agreed.").status_code == 302
    pending.refresh_from_db()
    assert pending.status == ContentRelease.Status.REJECTED
    assert InteractionRule.objects.get(code=OPIOID).severity == "major"
    # The same files are not recorded again.
    assert release.record_release(content).what == "rejected"


def test_a_clinician_cannot_decide(pending, clinician, clinician_client):
    assert approve_page(clinician_client, pending).status_code in (302, 403)
    with pytest.raises(WorkflowRefused, match="approve permission"):
        release.approve_release(release=pending, user=clinician)
    pending.refresh_from_db()
    assert pending.is_pending
    assert InteractionRule.objects.get(code=OPIOID).severity == "major"


def test_a_decided_release_is_not_decided_again_nor_deleted(pending, second_editor):
    release.approve_release(release=pending, user=second_editor)
    with pytest.raises(WorkflowRefused, match="already decided"):
        release.reject_release(release=pending, user=second_editor, comment="Too late.")
    with pytest.raises(DecidedReleaseError):
        pending.delete()
    with pytest.raises(DecidedReleaseError):
        ContentRelease.objects.all().delete()


def test_a_release_the_loaders_refuse_leaves_everything_as_it_was(content, second_editor):
    def break_rule(rows):
        next(r for r in rows if r["code"] == OPIOID)["problem"] = "no-such-problem"

    edit(content, "knowledge/interactions.json", break_rule)
    pending = release.record_release(content).release
    with pytest.raises(WorkflowRefused, match="unknown or missing problem"):
        release.approve_release(release=pending, user=second_editor)
    pending.refresh_from_db()
    assert pending.is_pending
    assert InteractionRule.objects.get(code=OPIOID).problem.key == "cns-depression"


def test_the_list_and_an_unknown_release(editor_client):
    assert editor_client.get("/admin/checklists/contentrelease/").status_code == 200
    assert editor_client.get("/admin/checklists/contentrelease/999999/change/").status_code == 404
    huge = "/admin/checklists/contentrelease/99999999999999999999/change/"
    assert editor_client.get(huge).status_code == 404
    assert (
        editor_client.get("/admin/checklists/contentrelease/1/decide/approve/").status_code == 405
    )
