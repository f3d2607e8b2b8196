"""Amendments (issue 19 point 5): an "Amend" button at the top of a signed checklist leads
to a short form; the amendment's sign page shows what changed; a superseded revision says
when the amendment was signed."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from checklists.cases.drafts import save_section
from checklists.models import ChecklistResponse

from .factories import FOLLOW_UP_DATE, fill, make_response, sign

pytestmark = pytest.mark.django_db

T_FIRST = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)
T_AMENDED = datetime.datetime(2026, 11, 25, 16, 30, tzinfo=datetime.UTC)


@pytest.fixture
def signed(case, clinician, version):
    response = make_response(case, clinician)
    fill(response, clinician)
    with time_machine.travel(T_FIRST, tick=False):
        sign(response, clinician)
    response.refresh_from_db()
    return response


def test_the_amend_button_sits_at_the_top_and_leads_to_the_short_form(clinician_client, signed):
    page = clinician_client.get(reverse("response_detail", args=[signed.pk])).content.decode()
    button = f'href="{reverse("amend", args=[signed.pk])}"'
    assert button in page
    # Above the cautions and every answer, where a clinician opening the record sees it.
    assert page.index(button) < page.index('id="flags-title"') < page.index('id="sec-')
    assert 'name="reason"' not in page  # the form is on its own page now
    form = clinician_client.get(reverse("amend", args=[signed.pk]))
    assert form.status_code == 200
    text = form.content.decode()
    assert 'name="reason"' in text and "csrfmiddlewaretoken" in text
    answer = clinician_client.post(reverse("amend", args=[signed.pk]), {"reason": "Wrong dose"})
    draft = ChecklistResponse.objects.get(amends=signed)
    assert answer.status_code == 302
    assert answer["Location"] == reverse("response_detail", args=[draft.pk])


def test_no_amend_button_for_a_supervisor_nor_on_a_draft(
    supervisor_client, clinician_client, signed, case, clinician
):
    url = reverse("amend", args=[signed.pk])
    page = supervisor_client.get(reverse("response_detail", args=[signed.pk])).content.decode()
    assert url not in page
    assert supervisor_client.get(url).status_code == 403
    draft = make_response(case, clinician)
    assert clinician_client.get(reverse("amend", args=[draft.pk])).status_code == 302


def test_a_reason_is_asked_again_on_the_form(clinician_client, signed):
    answer = clinician_client.post(reverse("amend", args=[signed.pk]), {"reason": ""})
    assert answer.status_code == 400
    assert 'name="reason"' in answer.content.decode()
    assert not ChecklistResponse.objects.filter(amends=signed).exists()


def _amend_and_change(client, signed, clinician):
    client.post(reverse("amend", args=[signed.pk]), {"reason": "Follow-up date was wrong"})
    draft = ChecklistResponse.objects.get(amends=signed)
    section = draft.version.sections.get(key="plan_and_monitoring")
    save_section(
        response=draft,
        section=section,
        values={"follow_up_date": "2026-12-24", "clinician_notes": "Start low."},
        lock_version=draft.lock_version,
        user=clinician,
    )
    return draft


def test_the_amendments_sign_page_shows_what_changed(clinician_client, clinician, signed):
    draft = _amend_and_change(clinician_client, signed, clinician)
    page = clinician_client.get(reverse("review", args=[draft.pk])).content.decode()
    changes = page[
        page.index('id="changes-title"') : page.index(
            "</section>", page.index('id="changes-title"')
        )
    ]
    assert "Changed since revision 1 (1)" in changes
    assert FOLLOW_UP_DATE.isoformat() in changes and "2026-12-24" in changes
    assert "Follow-up date was wrong" in changes
    assert page.index('id="changes-title"') < page.index('id="sign-title"')


def test_the_superseded_revision_says_when_the_amendment_was_signed(
    clinician_client, clinician, signed
):
    draft = _amend_and_change(clinician_client, signed, clinician)
    with time_machine.travel(T_AMENDED, tick=False):  # (the session would end meanwhile)
        sign(draft, clinician)
    signed.refresh_from_db()
    assert signed.status == ChecklistResponse.Status.SUPERSEDED
    page = clinician_client.get(reverse("response_detail", args=[signed.pk])).content.decode()
    assert "<strong>Superseded</strong> on 2026-11-25 16:30 UTC, when revision 2 was signed" in page
    assert "signed by clinician on 2026-11-20 10:00 UTC" in page
    note = clinician_client.get(reverse("export_note_txt", args=[signed.pk])).content.decode()
    assert "superseded 2026-11-25 16:30 UTC when the amendment was signed" in note
