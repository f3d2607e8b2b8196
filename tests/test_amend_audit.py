"""Amendments, lost updates, the audit trail and its immutability (issue 7)."""

import csv
import io
import threading

import pytest
from django.db import close_old_connections, connection
from django.urls import reverse

from checklists import audit
from checklists.cases.drafts import StaleResponse, save_section
from checklists.cases.signing import amend_response
from checklists.models import (
    AmendmentRequest,
    Answer,
    AuditEvent,
    ChecklistResponse,
)
from checklists.models.audit import AuditImmutableError
from checklists.roles import AUDITOR

from .conftest import HttpsClient, login, sign_data
from .factories import PASSWORD, fill, make_case, make_response, make_team, make_user, sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(case, clinician, version):
    response = make_response(case, clinician)
    fill(response, clinician)
    sign(response, clinician)
    response.refresh_from_db()
    return response


class TestAmendment:
    def test_amend_starts_a_draft_revision_with_the_previous_answers(
        self, clinician_client, signed
    ):
        started = clinician_client.post(
            reverse("amend", args=[signed.pk]), {"reason": "Wrong dose recorded"}
        )
        draft = ChecklistResponse.objects.get(amends=signed)
        assert started["Location"] == reverse("response_detail", args=[draft.pk])
        assert (draft.revision, draft.status, draft.amend_reason) == (
            2,
            "draft",
            "Wrong dose recorded",
        )
        assert sorted(draft.answers.values_list("item__key", "value")) == sorted(
            signed.answers.values_list("item__key", "value")
        )
        signed.refresh_from_db()
        assert signed.status == "signed"  # until the amendment is signed
        assert AuditEvent.objects.filter(
            action="checklist_amended", case_id=signed.case_id, detail__reason="Wrong dose recorded"
        ).exists()

    def test_amend_needs_a_reason(self, clinician_client, signed):
        clinician_client.post(reverse("amend", args=[signed.pk]), {"reason": ""})
        assert not ChecklistResponse.objects.filter(amends=signed).exists()

    def test_signing_the_amendment_supersedes_the_earlier_revision(self, clinician_client, signed):
        clinician_client.post(reverse("amend", args=[signed.pk]), {"reason": "Notes"})
        draft = ChecklistResponse.objects.get(amends=signed)
        url = reverse("section", args=[draft.pk, "plan_and_monitoring"])
        clinician_client.post(
            url,
            {
                "follow_up_date": "2027-01-15",
                "clinician_notes": "Corrected plan.",
                "lock_version": draft.lock_version,
            },
        )
        assert (
            clinician_client.post(
                reverse("sign", args=[draft.pk]), sign_data(clinician_client, draft)
            ).status_code
            == 302
        )
        signed.refresh_from_db()
        draft.refresh_from_db()
        assert (signed.status, draft.status) == ("superseded", "signed")
        # Still viewable, linked both ways, and the new revision lists what changed.
        old = clinician_client.get(reverse("response_detail", args=[signed.pk])).content.decode()
        assert reverse("response_detail", args=[draft.pk]) in old and "superseded" in old
        new = clinician_client.get(reverse("response_detail", args=[draft.pk])).content.decode()
        assert reverse("response_detail", args=[signed.pk]) in new
        assert "Changed since revision 1 (2)" in new and "Corrected plan." in new
        assert "2027-01-15" in new

    def test_a_superseded_or_draft_revision_cannot_be_amended(self, clinician_client, signed):
        clinician_client.post(reverse("amend", args=[signed.pk]), {"reason": "first"})
        again = clinician_client.post(
            reverse("amend", args=[signed.pk]), {"reason": "second"}, follow=True
        )
        assert "already under way" in again.content.decode()
        draft = ChecklistResponse.objects.get(amends=signed)
        clinician_client.post(reverse("amend", args=[draft.pk]), {"reason": "x"})
        assert ChecklistResponse.objects.count() == 2

    def test_outsider_and_non_clinician_cannot_amend(
        self, outsider_client, supervisor_client, signed
    ):
        assert (
            outsider_client.post(reverse("amend", args=[signed.pk]), {"reason": "x"}).status_code
            == 404
        )
        refused = supervisor_client.post(reverse("amend", args=[signed.pk]), {"reason": "x"})
        assert refused.status_code == 403
        assert ChecklistResponse.objects.count() == 1

    def test_supervisor_returns_with_a_comment_clinician_cannot(
        self, clinician_client, supervisor, supervisor_client, signed
    ):
        assert (
            clinician_client.post(
                reverse("return_for_amendment", args=[signed.pk]), {"comment": "x"}
            ).status_code
            == 403
        )
        supervisor_client.post(
            reverse("return_for_amendment", args=[signed.pk]),
            {"comment": "Legal check date missing"},
        )
        request = AmendmentRequest.objects.get()
        assert (request.response, request.requested_by) == (signed, supervisor)
        page = clinician_client.get(reverse("response_detail", args=[signed.pk])).content.decode()
        assert "Legal check date missing" in page
        assert f'href="{reverse("amend", args=[signed.pk])}">Amend</a>' in page
        assert AuditEvent.objects.filter(action="checklist_returned").count() == 1


def test_two_concurrent_amendments_one_is_refused(signed, clinician, colleague):
    from checklists.cases.signing import AmendRefused

    amend_response(response=signed, user=clinician, reason="a")
    with pytest.raises(AmendRefused):
        amend_response(response=signed, user=colleague, reason="b")


class TestLostUpdates:
    def test_a_stale_save_gets_the_conflict_page_and_overwrites_nothing(
        self, client, clinician, colleague, case, version
    ):
        response = make_response(case, clinician)
        url = reverse("section", args=[response.pk, "individual_variability"])
        mine, theirs = login(client, clinician), login(HttpsClient(), colleague)
        stale = response.lock_version
        theirs.post(url, {"pregnant": "yes", "age_years": "30", "lock_version": stale})
        conflict = mine.post(url, {"pregnant": "no", "age_years": "30", "lock_version": stale})
        assert conflict.status_code == 409
        body = conflict.content.decode()
        assert "Keep mine: No" in body and "Keep saved (by colleague): Yes" in body
        assert "age_years" not in [row["item"].key for row in conflict.context["rows"]]
        assert response.answers.get(item__key="pregnant").value == "yes"
        # Choosing "keep saved" for that question saves the rest of theirs.
        response.refresh_from_db()
        chosen = mine.post(
            url,
            {
                "pregnant": "no",
                "age_years": "31",
                "keep-pregnant": "saved",
                "lock_version": response.lock_version,
            },
        )
        assert chosen.status_code == 302
        values = dict(response.answers.values_list("item__key", "value"))
        assert values["pregnant"] == "yes" and values["age_years"] == 31

    def test_keep_mine_overwrites_only_by_choice(self, client, clinician, colleague, case, version):
        response = make_response(case, clinician)
        url = reverse("section", args=[response.pk, "individual_variability"])
        mine, theirs = login(client, clinician), login(HttpsClient(), colleague)
        theirs.post(url, {"pregnant": "yes", "lock_version": 0})
        mine.post(url, {"pregnant": "no", "lock_version": 0})
        response.refresh_from_db()
        mine.post(
            url, {"pregnant": "no", "keep-pregnant": "mine", "lock_version": response.lock_version}
        )
        assert response.answers.get(item__key="pregnant").value == "no"


@pytest.mark.django_db(transaction=True)
def test_200_rounds_of_two_concurrent_saves_exactly_one_wins(version):
    """Two threads save the same section from the same page state, 200 times."""
    from .factories import load_knowledge

    load_knowledge()
    team = make_team()
    users = [make_user(f"racer{n}", teams=[team]) for n in range(2)]
    response = make_response(make_case(team, users[0]), users[0])
    section = response.version.sections.get(key="individual_variability")
    winners, conflicts, errors = [], [], []
    for round_number in range(200):
        response.refresh_from_db()
        lock = response.lock_version
        barrier = threading.Barrier(2)

        def save(n, lock=lock, round_number=round_number, barrier=barrier):
            try:
                barrier.wait()
                mine = ChecklistResponse.objects.get(pk=response.pk)
                save_section(
                    response=mine,
                    section=section,
                    user=users[n],
                    values={"age_years": round_number * 10 + n},
                    lock_version=lock,
                )
                winners.append((round_number, n))
            except StaleResponse:
                conflicts.append((round_number, n))
            except Exception as error:  # surfaced by the assertion below
                errors.append(repr(error))
            finally:
                close_old_connections()

        threads = [threading.Thread(target=save, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        won = [n for r, n in winners if r == round_number]
        assert len(won) == 1 and len([1 for r, _ in conflicts if r == round_number]) == 1
        value = Answer.objects.get(response=response, item__key="age_years").value
        assert value == round_number * 10 + won[0]
    saves = AuditEvent.objects.filter(action="section_saved", object_id=str(response.pk))
    assert saves.count() == 200
    assert connection.vendor in ("sqlite", "postgresql")


def test_a_failure_between_answers_and_audit_leaves_the_database_unchanged(
    monkeypatch, case, clinician, version
):
    response = make_response(case, clinician)
    section = response.version.sections.get(key="individual_variability")
    before = (Answer.objects.count(), AuditEvent.objects.count(), response.lock_version)

    def broken(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        save_section(
            response=response,
            section=section,
            user=clinician,
            values={"pregnant": "yes"},
            lock_version=response.lock_version,
        )
    response.refresh_from_db()
    assert (Answer.objects.count(), AuditEvent.objects.count(), response.lock_version) == before


class TestAuditTrail:
    def test_events_cannot_be_changed_or_deleted(self, case):
        event = AuditEvent.objects.filter(case_id=case.pk).first()
        event.action = "case_viewed"
        with pytest.raises(AuditImmutableError):
            event.save()
        with pytest.raises(AuditImmutableError):
            event.delete()
        with pytest.raises(AuditImmutableError):
            AuditEvent.objects.filter(pk=event.pk).update(action="x")
        with pytest.raises(AuditImmutableError):
            AuditEvent.objects.filter(pk=event.pk).delete()
        assert AuditEvent.objects.get(pk=event.pk).action == "case_created"

    def test_authentication_events(self, client, clinician):
        client.post(
            reverse("login"),
            {"username": "clinician", "password": "wrong password!"},
            REMOTE_ADDR="10.1.2.3",
        )
        client.post(reverse("login"), {"username": "clinician", "password": PASSWORD})
        client.post(reverse("logout"))
        actions = list(AuditEvent.objects.order_by("id").values_list("action", "username"))
        assert ("login_failed", "") in actions and ("login", "clinician") in actions
        assert ("logout", "clinician") in actions
        failed = AuditEvent.objects.get(action="login_failed")
        assert failed.detail == {"username": "clinician"} and failed.ip_address == "10.1.2.3"

    def test_each_event_says_who_what_which_case_when_and_from_where(self, clinician_client, case):
        clinician_client.get(reverse("case_detail", args=[case.pk]), REMOTE_ADDR="192.0.2.7")
        viewed = AuditEvent.objects.get(action="case_viewed")
        assert (
            viewed.username,
            viewed.object_type,
            viewed.object_id,
            viewed.case_id,
            viewed.ip_address,
        ) == ("clinician", "patientcase", str(case.pk), case.pk, "192.0.2.7")
        assert viewed.at.utcoffset().total_seconds() == 0

    def test_group_changes_are_recorded(self, clinician):
        from checklists.roles import ensure_roles

        clinician.groups.add(ensure_roles()[AUDITOR])
        assert AuditEvent.objects.filter(
            action="groups_changed", object_id=str(clinician.pk)
        ).exists()

    def test_case_changes_are_recorded(self, clinician_client, case):
        clinician_client.post(
            reverse("case_edit", args=[case.pk]),
            {"initials": "QZ", "birth_year": "1990", "jurisdiction": "us-ut"},
        )
        case.refresh_from_db()
        assert (case.initials, case.birth_year, case.jurisdiction) == ("QZ", 1990, "US-UT")
        event = AuditEvent.objects.get(action="case_changed")
        assert event.detail == {"fields": ["initials", "birth_year", "jurisdiction"]}

    def test_audit_page_for_auditors_only_with_filters_and_csv(
        self, client, clinician_client, case, auditor
    ):
        clinician_client.get(reverse("case_detail", args=[case.pk]))
        assert clinician_client.get(reverse("audit")).status_code == 403
        # The team's auditor: the team's events (tests/test_audit_trail.py: only those).
        page = login(client, auditor).get(
            reverse("audit"), {"user": "clinician", "action": "case_viewed"}
        )
        assert page.status_code == 200
        events = page.context["page"].object_list
        assert [e.action for e in events] == ["case_viewed"]
        by_case = client.get(reverse("audit"), {"case": case.pk})
        assert {e.case_id for e in by_case.context["page"].object_list} == {case.pk}
        exported = client.get(reverse("audit"), {"case": case.pk, "format": "csv"})
        rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode())))
        assert rows[0][:3] == ["when_utc", "user", "action"]
        assert len(rows) - 1 == AuditEvent.objects.filter(case_id=case.pk).count()
        exported_event = AuditEvent.objects.get(action="audit_exported")
        assert exported_event.detail == {"filters": {"case": str(case.pk)}}

    def test_bad_audit_filters_get_field_errors(self, auditor_client):
        page = auditor_client.get(reverse("audit"), {"date_from": "not a date", "case": "abc"})
        assert page.status_code == 200 and page.context["form"].errors
