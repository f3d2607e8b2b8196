"""A new checklist on a case starts with the stable answers of the last signed one."""

from django.urls import reverse

from checklists.cases.drafts import start_response
from checklists.cases.restart import restart_response_on_current
from checklists.models import Answer, AuditEvent

from .factories import COMPLETE_ANSWERS, fill, make_response, sign

MEDS = COMPLETE_ANSWERS["medication_interactions"]["current_medications"]


def _start(client, case):
    client.post(reverse("checklist_start", args=[case.pk]))
    return case.responses.order_by("-id").first()


def test_new_checklist_carries_the_medication_list_forward(
    clinician_client, clinician, case, version
):
    earlier = make_response(case, clinician)
    fill(earlier, clinician)
    sign(earlier, clinician)

    response = _start(clinician_client, case)

    answers = {a.item.key: a.value for a in response.answers.select_related("item")}
    assert answers == {"current_medications": MEDS}  # not substances, pregnancy, plan...
    assert response.carried_from == earlier
    assert response.carried_keys == ["current_medications"]
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.CHECKLIST_STARTED, object_id=str(response.pk)
    )
    assert event.detail["carried_from"] == earlier.pk


def test_carried_answers_are_marked_until_their_section_is_saved(
    clinician_client, clinician, case, version
):
    earlier = make_response(case, clinician)
    fill(earlier, clinician)
    sign(earlier, clinician)
    response = _start(clinician_client, case)
    url = reverse("section", args=[response.pk, "medication_interactions"])
    signed_on = f"{earlier.signed_at:%-d %B %Y}"

    page = clinician_client.get(url).content.decode()
    assert "To be confirmed:" in page and signed_on in page
    assert 'value="oxycodone"' in page
    later = clinician_client.get(reverse("section", args=[response.pk, "plan_and_monitoring"]))
    assert "To be confirmed" not in later.content.decode()

    # An autosave (a change to another question of the section) confirms nothing.
    clinician_client.post(
        url,
        {
            "lock_version": response.lock_version,
            "substances_in_use": ["kratom"],
            "current_medications-0-name": "oxycodone",
        },
        HTTP_HX_REQUEST="true",
    )
    response.refresh_from_db()
    assert response.carried_keys == ["current_medications"]
    assert "To be confirmed:" in clinician_client.get(url).content.decode()

    clinician_client.post(
        url,
        {
            "lock_version": response.lock_version,
            "substances_in_use": ["kratom"],
            "current_medications-0-name": "oxycodone",
            "current_medications-0-dose": "5 mg",
            "current_medications-0-frequency": "BID",
            "stay": "",
        },
    )
    response.refresh_from_db()
    assert response.carried_keys == []
    assert "To be confirmed" not in clinician_client.get(url).content.decode()


def test_nothing_is_carried_from_a_draft(clinician_client, clinician, case, version):
    fill(make_response(case, clinician), clinician)
    response = _start(clinician_client, case)
    assert not Answer.objects.filter(response=response).exists()
    assert response.carried_from is None and response.carried_keys == []


def test_first_checklist_on_a_case_starts_empty(clinician, case, version):
    response = start_response(case=case, user=clinician)
    assert response.carried_keys == [] and not response.answers.exists()


def test_a_restart_on_a_new_version_keeps_the_marks_still_unconfirmed(
    clinician_client, clinician, case, version, editor, second_editor
):
    from .test_restart import publish_v2

    earlier = make_response(case, clinician)
    fill(earlier, clinician)
    sign(earlier, clinician)
    response = _start(clinician_client, case)
    publish_v2(version, editor, second_editor, lambda draft: None)

    new = restart_response_on_current(
        response=response, user=clinician, lock_version=response.lock_version
    ).response

    assert new.carried_from == earlier
    assert new.carried_keys == ["current_medications"]
