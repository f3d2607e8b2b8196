"""Re-verifying a legal row (issue 17, point 5): an editor records the source read, the
day and what it says; a second editor approves it before the row's verification date
moves; the overdue page lists the rows about to go stale, each with the action.

A stale row still asks the clinician's own check of the law (screening is unchanged):
re-verification is how an editor keeps that check for rows that really are old.
"""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from checklists import screening
from checklists.authoring import loaders
from checklists.models import AuditEvent, KnowledgeChange, LegalStatus, Source

from .conftest import HttpsClient, login

pytestmark = pytest.mark.django_db

OVERDUE = "/admin/checklists/templateversion/overdue/"
NOTE = "The Code section still makes kratom a schedule I substance; no change pending."


def reverify_path(row: LegalStatus) -> str:
    return f"/admin/checklists/legalstatus/{row.pk}/reverify/"


def decide(client, change: KnowledgeChange, step: str, comment: str = ""):
    url = f"/admin/checklists/knowledgechange/{change.pk}/decide/{step}/"
    return client.post(url, {"comment": comment})


@pytest.fixture
def today() -> datetime.date:
    return timezone.localdate()


@pytest.fixture
def row() -> LegalStatus:
    """Alabama's kratom ban: a row with a definite status whose check is long past."""
    return LegalStatus.objects.get(
        jurisdiction__code="US-AL", substance="kratom", effective_from="2016-05-10"
    )


@pytest.fixture
def statute() -> Source:
    return Source.objects.create(
        key="al-code-20-2-23",
        title="Code of Alabama s. 20-2-23, schedule I",
        publisher="Alabama Legislature",
        kind=Source.Kind.LAW,
    )


def propose(client, row, statute, on: datetime.date, note: str = NOTE):
    data = {"sources": [statute.pk], "checked_on": on.isoformat(), "note": note}
    return client.post(reverify_path(row), data)


def unverified(place: str, on: datetime.date) -> bool:
    intake = {"substances": ["kratom"], "jurisdiction": place, "on": on.isoformat()}
    result = screening.screen(screening.parse_intake(intake, today=on))
    codes = {c.code for flag in result.flags for c in flag.contributors}
    return f"legal:unverified:{place}:kratom" in codes


class TestTheActionProposes:
    def test_the_row_page_offers_the_action(self, editor_client, row):
        page = editor_client.get(f"/admin/checklists/legalstatus/{row.pk}/change/")
        assert reverify_path(row) in page.text

    def test_the_form_starts_from_the_rows_sources_and_today(self, editor_client, row, today):
        page = editor_client.get(reverify_path(row))
        assert page.status_code == 200
        form = page.context["form"]
        assert list(form.initial["sources"]) == list(row.sources.all())
        assert form.initial["checked_on"] == today
        assert "2026-01-01" in page.text  # the date it was last verified

    def test_saving_records_a_proposal_and_leaves_the_row(
        self, editor_client, editor, row, statute, today
    ):
        before = (row.verified_on, sorted(row.sources.values_list("pk", flat=True)))
        answer = propose(editor_client, row, statute, today)
        change = KnowledgeChange.objects.get()
        assert answer.status_code == 302
        assert answer.url == f"/admin/checklists/knowledgechange/{change.pk}/change/"
        row.refresh_from_db()
        assert (row.verified_on, sorted(row.sources.values_list("pk", flat=True))) == before
        assert row.verification_note == ""
        assert change.is_pending and change.kind == "change" and change.proposed_by == editor
        assert change.proposed["verified_on"] == today.isoformat()
        assert change.proposed["sources"] == [statute.pk]
        assert change.proposed["verification_note"] == NOTE
        assert NOTE in change.reason and statute.key in change.reason
        event = AuditEvent.objects.get(action=AuditEvent.Action.KNOWLEDGE_PROPOSED)
        assert event.user == editor and event.detail["model"] == "legalstatus"
        assert "verified_on" in event.detail["fields"]
        # Until approved, screening there still asks the clinician's own check.
        assert unverified("US-AL", today)

    @pytest.mark.parametrize(
        "when,message",
        [("tomorrow", "cannot be in the future"), ("before", "cannot be older than that")],
    )
    def test_a_date_in_the_future_or_before_the_last_check_is_refused(
        self, editor_client, row, statute, today, when, message
    ):
        one_day = datetime.timedelta(days=1)
        on = today + one_day if when == "tomorrow" else row.verified_on - one_day
        page = propose(editor_client, row, statute, on)
        assert page.status_code == 200 and message in page.text
        assert not KnowledgeChange.objects.exists()

    def test_a_note_and_a_source_are_required(self, editor_client, row, today):
        page = editor_client.post(
            reverify_path(row), {"sources": [], "checked_on": today.isoformat(), "note": " "}
        )
        assert page.status_code == 200
        assert set(page.context["form"].errors) == {"sources", "note"}
        assert not KnowledgeChange.objects.exists()


class TestTheSecondEditorApplies:
    def test_approval_moves_the_date_sources_and_note(
        self, editor_client, reviewer_client, editor, second_editor, row, statute, today
    ):
        propose(editor_client, row, statute, today)
        change = KnowledgeChange.objects.get()
        history = row.history.count()
        answer = decide(reviewer_client, change, "approve")
        assert answer.status_code == 302
        change.refresh_from_db()
        row.refresh_from_db()
        assert change.status == "approved" and change.decided_by == second_editor
        assert row.verified_on == today and row.verification_note == NOTE
        assert list(row.sources.all()) == [statute]
        assert statute.key in row.verified_by and today.isoformat() in row.verified_by
        assert row.review_by == today + datetime.timedelta(days=180)
        assert row.status == "banned"  # re-verifying changes no rule
        # History: the row's own records (the save, then its sources), all charged to the
        # proposer and naming the proposal; and the proposal itself, decided.
        added = list(row.history.all()[: row.history.count() - history])
        assert added and {h.history_user for h in added} == {editor}
        latest = added[0]
        assert f"change {change.pk}" in latest.history_change_reason
        assert latest.verified_on == today and latest.verification_note == NOTE
        assert AuditEvent.objects.filter(action=AuditEvent.Action.KNOWLEDGE_APPROVED).exists()
        # And screening there no longer asks the clinician's own check.
        assert not unverified("US-AL", today)

    def test_the_next_deploy_load_keeps_the_newer_check(
        self, editor_client, reviewer_client, row, statute, today
    ):
        propose(editor_client, row, statute, today)
        decide(reviewer_client, KnowledgeChange.objects.get(), "approve")
        loaders.load_legal()  # statuses.json still says 2026-01-01 for this row
        row.refresh_from_db()
        assert row.verified_on == today and list(row.sources.all()) == [statute]
        assert row.verification_note == NOTE and statute.key in row.verified_by

    def test_the_proposer_cannot_approve(self, editor_client, row, statute, today):
        propose(editor_client, row, statute, today)
        change = KnowledgeChange.objects.get()
        assert (
            "Approve and apply"
            not in editor_client.get(f"/admin/checklists/knowledgechange/{change.pk}/change/").text
        )
        decide(editor_client, change, "approve")
        change.refresh_from_db()
        row.refresh_from_db()
        assert change.is_pending
        assert row.verified_on == datetime.date(2026, 1, 1)

    def test_a_rejected_reverification_changes_nothing(
        self, editor_client, reviewer_client, row, statute, today
    ):
        propose(editor_client, row, statute, today)
        change = KnowledgeChange.objects.get()
        decide(reviewer_client, change, "reject", "That section was repealed; read it again.")
        row.refresh_from_db()
        assert row.verified_on == datetime.date(2026, 1, 1) and row.verification_note == ""


class TestTheOverduePage:
    def test_it_lists_a_row_about_to_go_stale_and_not_a_fresh_one(self, editor_client, today):
        soon = LegalStatus.objects.get(jurisdiction__code="DK", substance="kratom")
        fresh = LegalStatus.objects.get(jurisdiction__code="IE", substance="kratom")
        almost = today - datetime.timedelta(days=settings.LEGAL_STALE_DAYS - 10)
        LegalStatus.objects.filter(pk=soon.pk).update(verified_on=almost)
        LegalStatus.objects.filter(pk=fresh.pk).update(verified_on=today)
        page = editor_client.get(OVERDUE)
        assert page.status_code == 200
        listed = {row.pk: stale for row, _, _, stale in page.context["going_stale"]}
        assert listed[soon.pk] is False  # not stale yet: 11 days left
        assert fresh.pk not in listed
        assert reverify_path(soon) in page.text and reverify_path(fresh) not in page.text

    def test_stale_rows_are_listed_but_unclear_and_ended_ones_are_not(self, editor_client, row):
        page = editor_client.get(OVERDUE)
        listed = {r.pk: stale for r, _, _, stale in page.context["going_stale"]}
        assert listed[row.pk] is True  # Alabama, verified 2026-01-01
        unclear = LegalStatus.objects.filter(status="unclear").values_list("pk", flat=True)
        assert not set(unclear) & set(listed)
        ended = LegalStatus.objects.filter(effective_to__lt=timezone.localdate())
        assert not set(ended.values_list("pk", flat=True)) & set(listed)


class TestWhoMay:
    @pytest.mark.parametrize("method", ["get", "post"])
    def test_anonymous_is_sent_to_the_login(self, client, row, statute, method):
        answer = getattr(client, method)(reverify_path(row), {"sources": [statute.pk]})
        assert answer.status_code == 302 and "/login/" in answer.url
        assert not KnowledgeChange.objects.exists()

    def test_a_clinician_is_sent_to_the_login(self, clinician_client, row, statute, today):
        assert clinician_client.get(reverify_path(row)).status_code == 302
        answer = propose(clinician_client, row, statute, today)
        assert answer.status_code == 302 and "/login/" in answer.url
        assert not KnowledgeChange.objects.exists()

    def test_a_staff_auditor_is_refused(self, staff_auditor, row, statute, today):
        client = login(HttpsClient(), staff_auditor)
        assert client.get(reverify_path(row)).status_code == 403
        assert propose(client, row, statute, today).status_code == 403
        assert client.get(OVERDUE).status_code == 403
        assert not KnowledgeChange.objects.exists()

    @pytest.mark.parametrize("row_id", ["999999", "99999999999999999999"])
    def test_an_unknown_row_is_a_404(self, editor_client, row_id):
        path = f"/admin/checklists/legalstatus/{row_id}/reverify/"
        assert editor_client.get(path).status_code == 404
