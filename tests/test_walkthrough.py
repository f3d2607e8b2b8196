"""The clinician's walkthrough end to end, through the test client."""

import html
import json
import re

import pytest
from django.urls import reverse

from checklists.models import Answer, AuditEvent, ChecklistResponse, PatientCase, Source

from .conftest import HttpsClient, login, sign_data
from .factories import PASSWORD, fill, make_response, recovery_code

pytestmark = pytest.mark.django_db

SECTION_POSTS = {
    "medication_interactions": {
        "substances_in_use": ["kratom", "melatonin"],
        "current_medications-0-name": "OxyContin 20mg",
        "current_medications-0-dose": "20 mg",
        "current_medications-0-frequency": "BID",
        "combined_use": "yes",
    },
    "individual_variability": {"pregnant": "no", "age_years": "44"},
    "legal_verification": {"jurisdiction": "us-tx"},
    "supplier_lab_testing": {"melatonin_label_checked": "yes"},
    "plan_and_monitoring": {"follow_up_date": "2026-12-01", "clinician_notes": "Start low."},
}


def post_section(client, response, key, data):
    response.refresh_from_db(fields=["lock_version"])
    return client.post(
        reverse("section", args=[response.pk, key]),
        {**data, "lock_version": response.lock_version, "next": ""},
    )


def test_whole_intake_in_the_test_client(clinician_client, clinician, team, version):
    created = clinician_client.post(
        reverse("case_new"),
        {
            "team": team.pk,
            "reference": "MRN-77",
            "initials": "ab",
            "birth_year": "1980",
            "jurisdiction": "us-tx",
        },
    )
    case = PatientCase.objects.get(reference="MRN-77")
    assert created.status_code == 302 and created["Location"] == reverse(
        "case_detail", args=[case.pk]
    )
    assert (case.initials, case.birth_year, case.jurisdiction) == ("AB", 1980, "US-TX")

    started = clinician_client.post(reverse("checklist_start", args=[case.pk]))
    response = ChecklistResponse.objects.get(case=case)
    assert started["Location"] == reverse("section", args=[response.pk, "medication_interactions"])
    assert response.version == version and response.is_draft

    keys = list(SECTION_POSTS)
    for index, key in enumerate(keys):
        saved = post_section(clinician_client, response, key, SECTION_POSTS[key])
        expected = (
            reverse("section", args=[response.pk, keys[index + 1]])
            if index + 1 < len(keys)
            else reverse("review", args=[response.pk])
        )
        assert saved.status_code == 302 and saved["Location"] == expected

    review = clinician_client.get(reverse("review", args=[response.pk]))
    assert review.status_code == 200 and "Sign and lock" in review.content.decode()
    assert "OxyContin 20mg" in review.content.decode()

    wrong = clinician_client.post(
        reverse("sign", args=[response.pk]),
        {"password": "not my password", "attest": "on", "lock_version": response.lock_version + 5},
    )
    assert wrong.status_code == 400 and "password is not right" in wrong.content.decode()
    response.refresh_from_db()
    assert response.is_draft

    signed = clinician_client.post(
        reverse("sign", args=[response.pk]), sign_data(clinician_client, response)
    )
    assert signed["Location"] == reverse("response_detail", args=[response.pk])
    response.refresh_from_db()
    case.refresh_from_db()
    assert response.status == "signed" and response.signed_by == clinician
    assert response.attestation.startswith("I reviewed every answer")
    assert str(case.follow_up_due) == "2026-12-01"
    answers = {a.item.key: a.value for a in response.answers.select_related("item")}
    assert answers["jurisdiction"] == "US-TX"
    assert answers["current_medications"] == [
        {"name": "OxyContin 20mg", "dose": "20 mg", "frequency": "BID"}
    ]
    assert answers["age_years"] == 44
    actions = list(AuditEvent.objects.filter(case_id=case.pk).values_list("action", flat=True))
    assert actions.count("section_saved") == 5 and "checklist_signed" in actions


def test_signing_needs_the_attestation(clinician_client, case, clinician, version):
    response = make_response(case, clinician)
    fill(response, clinician)
    refused = clinician_client.post(
        reverse("sign", args=[response.pk]),
        {"password": PASSWORD, "lock_version": response.lock_version},
    )
    assert refused.status_code == 400 and "Tick the attestation" in refused.content.decode()
    response.refresh_from_db()
    assert response.is_draft


def test_signing_refused_while_required_items_missing(clinician_client, case, clinician, version):
    response = make_response(case, clinician)
    post_section(
        clinician_client, response, "medication_interactions", {"substances_in_use": "kratom"}
    )
    review = clinician_client.get(reverse("review", args=[response.pk]))
    body = review.content.decode()
    assert "Sign and lock" not in body
    for key, section in [
        ("pregnant", "individual_variability"),
        ("jurisdiction", "legal_verification"),
        ("follow_up_date", "plan_and_monitoring"),
    ]:
        assert f"{reverse('section', args=[response.pk, section])}#item-{key}" in body
    forced = clinician_client.post(
        reverse("sign", args=[response.pk]),
        {
            "password": PASSWORD,
            "otp_token": recovery_code(clinician),
            "attest": "on",
            "lock_version": response.lock_version + 1,
        },
    )
    assert forced.status_code == 400 and "required item" in forced.content.decode()
    response.refresh_from_db()
    assert response.is_draft


class TestSignedChecklistRefusesWrites:
    @pytest.fixture
    def signed(self, case, clinician, version, clinician_client):
        response = make_response(case, clinician)
        fill(response, clinician)
        clinician_client.post(
            reverse("sign", args=[response.pk]), sign_data(clinician_client, response)
        )
        response.refresh_from_db()
        assert response.status == "signed"
        return response

    def test_section_post_refused(self, clinician_client, signed):
        before = list(Answer.objects.filter(response=signed).values_list("id", "value"))
        refused = clinician_client.post(
            reverse("section", args=[signed.pk, "individual_variability"]),
            {"pregnant": "yes", "lock_version": signed.lock_version},
        )
        assert refused.status_code == 409
        assert "can no longer be changed" in refused.content.decode()
        assert list(Answer.objects.filter(response=signed).values_list("id", "value")) == before

    def test_sign_again_refused(self, clinician_client, signed):
        signed_at = signed.signed_at
        refused = clinician_client.post(
            reverse("sign", args=[signed.pk]),
            {"password": PASSWORD, "attest": "on", "lock_version": signed.lock_version},
        )
        assert refused.status_code == 409
        signed.refresh_from_db()
        assert signed.signed_at == signed_at

    def test_service_refuses_even_with_the_current_lock_version(self, signed, clinician):
        from checklists.access import ResponseLocked
        from checklists.cases.drafts import save_section

        section = signed.version.sections.get(key="plan_and_monitoring")
        with pytest.raises(ResponseLocked):
            save_section(
                response=signed,
                section=section,
                values={"clinician_notes": "changed"},
                lock_version=signed.lock_version,
                user=clinician,
            )

    def test_section_get_shows_read_only(self, clinician_client, signed):
        page = clinician_client.get(reverse("section", args=[signed.pk, "plan_and_monitoring"]))
        assert page["Location"] == reverse("response_detail", args=[signed.pk])


def test_draft_resumes_from_another_browser(client, clinician, colleague, case, version):
    first = login(client, clinician)
    first.post(reverse("checklist_start", args=[case.pk]))
    response = ChecklistResponse.objects.get(case=case)
    post_section(
        first, response, "medication_interactions", SECTION_POSTS["medication_interactions"]
    )
    post_section(first, response, "individual_variability", SECTION_POSTS["individual_variability"])

    other = login(HttpsClient(), colleague)
    page = other.get(reverse("section", args=[response.pk, "individual_variability"]))
    body = page.content.decode()
    assert 'value="no" class="form-check-input" id="id_pregnant_1" checked' in body or (
        'id="id_pregnant_1"' in body and "checked" in body
    )
    assert 'name="age_years" value="44"' in body
    page = other.get(reverse("section", args=[response.pk, "medication_interactions"]))
    assert 'value="OxyContin 20mg"' in page.content.decode()


def test_required_items_may_be_left_empty_while_drafting(
    clinician_client, case, clinician, version
):
    response = make_response(case, clinician)
    saved = post_section(clinician_client, response, "individual_variability", {})
    assert saved.status_code == 302
    assert not Answer.objects.filter(response=response).exists()


def test_hidden_item_is_not_missing_and_its_answer_is_dropped(
    clinician_client, case, clinician, version
):
    response = make_response(case, clinician)
    post_section(
        clinician_client,
        response,
        "medication_interactions",
        {"substances_in_use": ["kratom", "melatonin"], "combined_use": "yes"},
    )
    post_section(
        clinician_client, response, "supplier_lab_testing", {"melatonin_label_checked": "yes"}
    )
    assert set(response.answers.values_list("item__key", flat=True)) == {
        "substances_in_use",
        "combined_use",
        "melatonin_label_checked",
    }

    # Melatonin no longer in use: its questions (here and in a later section) disappear.
    post_section(
        clinician_client,
        response,
        "medication_interactions",
        {"substances_in_use": ["kratom"], "combined_use": "yes"},
    )
    assert set(response.answers.values_list("item__key", flat=True)) == {"substances_in_use"}
    review = clinician_client.get(reverse("review", args=[response.pk]))
    assert "#item-melatonin_label_checked" not in review.content.decode()
    assert "#item-combined_use" not in review.content.decode()
    page = clinician_client.get(reverse("section", args=[response.pk, "supplier_lab_testing"]))
    assert 'name="melatonin_label_checked"' not in page.content.decode()


def test_same_section_condition_is_rendered_for_the_script(
    clinician_client, case, clinician, version
):
    response = make_response(case, clinician)
    page = clinician_client.get(reverse("section", args=[response.pk, "medication_interactions"]))
    body = page.content.decode()
    # JSON key order is the database's (PostgreSQL's jsonb sorts keys): read it back.
    conditions = [
        json.loads(html.unescape(m)) for m in re.findall(r'data-show-when="([^"]*)"', body)
    ]
    assert any(c.get("item") == "substances_in_use" for c in conditions)
    assert "Answer only if the answer to" in body


def test_section_page_shows_prompt_help_source_and_stepper(
    clinician_client, case, clinician, version
):
    response = make_response(case, clinician)
    page = clinician_client.get(reverse("section", args=[response.pk, "individual_variability"]))
    body = page.content.decode()
    assert "Section 2 of 5" in body
    assert "Question pregnant?" in body and "Why pregnant matters." in body
    title = Source.objects.get(key="seed-pain-sleep").title
    assert "<summary>Sources (1)</summary>" in body
    assert title in body and "(Section: safe practices)" in body and "source document" in body
    assert 'aria-current="step"' in body
    for key in ("medication_interactions", "plan_and_monitoring"):
        assert reverse("section", args=[response.pk, key]) in body


def test_unknown_section_is_404(clinician_client, case, clinician, version):
    response = make_response(case, clinician)
    assert clinician_client.get(reverse("section", args=[response.pk, "nope"])).status_code == 404


def test_major_caution_shows_on_the_section_after_save(clinician_client, case, clinician, version):
    response = make_response(case, clinician)
    post_section(clinician_client, response, "individual_variability", {"pregnant": "yes"})
    page = clinician_client.get(reverse("section", args=[response.pk, "individual_variability"]))
    body = page.content.decode()
    assert "Major" in body and "Advise against use in pregnancy." in body


def test_case_page_lists_checklists_and_can_start_another(
    clinician_client, case, clinician, version
):
    first = make_response(case, clinician)
    fill(first, clinician)
    page = clinician_client.get(reverse("case_detail", args=[case.pk]))
    body = page.content.decode()
    assert "Draft" in body and "v1" in body and clinician.username in body
    clinician_client.post(reverse("checklist_start", args=[case.pk]))
    assert case.responses.count() == 2
