"""The follow-up review (issue 20, point 2) and the case timeline (point 3): started from
the case page or the worklist, carried forward from the last signed checklist, screened
as the intake is, and shown on the case page with what changed."""

import datetime

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from checklists.authoring import files, loaders
from checklists.cases.drafts import save_section, start_response
from checklists.cases.followup import without_stale_legal_check
from checklists.cases.readmodel import load_state
from checklists.models import ChecklistResponse, ChecklistTemplate, PatientCase

from .factories import fill, make_response, sign
from .test_queries import count

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate().isoformat()
# A complete follow-up: kratom only, a new antidepressant instead of oxycodone.
REVIEW_ANSWERS = {
    "changes_since_last": {
        "substances_in_use": ["kratom"],
        "current_medications": [{"name": "sertraline", "dose": "50 mg", "frequency": "daily"}],
        "medicine_changes": ["started", "stopped"],
        "product_changed": "no",
        "kratom_amount_now": "2 g leaf powder three times a day",
        "kratom_trend": "same",
    },
    "effects_since_last": {
        "daytime_sedation": "no",
        "breathing_or_hard_to_wake": "no",
        "liver_signs_since": "no",
        "mood_change": "no",
        "sleep_now": "same",
    },
    "health_changes": {
        **{
            key: "no"
            for key in (
                "pregnancy_status",
                "breastfeeding",
                "liver_disease_or_signs",
                "kidney_impairment",
                "seizure_history",
                "psychiatric_condition",
                "sud_history",
                "long_qt_or_arrhythmia",
                "autoimmune_or_immunosuppressed",
                "diabetes",
            )
        },
        "age_band": "18_64",
    },
    "dependence_withdrawal": {
        "kratom_dependence_signs": "no",
        "withdrawal_between_doses": "no",
        "use_disorder_signs": "no",
    },
    "legal_recheck": {
        "jurisdiction": "US-TX",
        "kratom_legal_check_source": "Texas Health and Safety Code ch. 444",
        "kratom_legal_check_date": TODAY,
        "kratom_legal_status_found": "legal_regulated",
    },
    "plan_and_monitoring": {
        "advice_given": ["advised_not_to_use", "consult_prescriber"],
        "use_after_advice": "will_not_use",
        "monitoring_plan": ["liver_signs", "dependence_withdrawal"],
        "warning_signs_explained": "yes",
        "who_to_call": "Clinic line",
        "treatment_referral": "not_applicable",
        "follow_up_date": "2027-01-15",
    },
}


@pytest.fixture
def follow_up_version(db):
    version, _ = loaders.load_template(
        files.read_json(files.CONTENT_DIR / "follow_up_checklist.json")
    )
    return version


@pytest.fixture
def signed_intake(version, follow_up_version, case, clinician):
    response = make_response(case, clinician)
    fill(response, clinician)
    return sign(response, clinician)


def _start_review(client, case):
    return client.post(reverse("checklist_start", args=[case.pk]), {"template": "follow-up"})


def test_the_review_is_loaded_with_the_default_content_and_published(db):
    call_command("load_default_content", stdout=open("/dev/null", "w"))  # noqa: SIM115
    template = ChecklistTemplate.objects.get(slug="follow-up")
    version = template.versions.get()
    assert version.status == "published"
    assert all(item.citations.exists() for item in version.items.all())


def test_the_clinician_starts_a_review_carrying_the_last_signed_answers(
    clinician_client, case, signed_intake
):
    answer = _start_review(clinician_client, case)
    review = ChecklistResponse.objects.exclude(pk=signed_intake.pk).get(case=case)
    assert answer["Location"] == reverse("section", args=[review.pk, "changes_since_last"])
    assert review.version.template.slug == "follow-up"
    assert review.carried_from == signed_intake
    assert {"current_medications", "substances_in_use", "jurisdiction"} <= set(review.carried_keys)
    page = clinician_client.get(answer["Location"]).content.decode()
    assert "oxycodone" in page


def test_the_case_page_offers_the_review_once_a_checklist_is_signed(
    clinician_client, case, follow_up_version, version, clinician
):
    url = reverse("case_detail", args=[case.pk])
    assert "Start a follow-up review" not in clinician_client.get(url).content.decode()
    response = make_response(case, clinician)
    fill(response, clinician)
    sign(response, clinician)
    assert "Start a follow-up review" in clinician_client.get(url).content.decode()


def test_outsiders_are_told_nothing_and_supervisors_are_refused(
    outsider_client, supervisor_client, case, signed_intake
):
    assert _start_review(outsider_client, case).status_code == 404
    assert _start_review(supervisor_client, case).status_code == 403
    assert case.responses.count() == 1


def test_an_unknown_checklist_is_a_bad_request(clinician_client, case, signed_intake):
    unknown = clinician_client.post(
        reverse("checklist_start", args=[case.pk]), {"template": "anything"}
    )
    assert unknown.status_code == 400
    assert case.responses.count() == 1


def test_screening_runs_on_the_review_as_on_the_intake(case, signed_intake, clinician):
    review = start_response(case=case, user=clinician, template_slug="follow-up")
    effects = review.version.sections.get(key="effects_since_last")
    save_section(
        response=review,
        section=effects,
        values={**REVIEW_ANSWERS["effects_since_last"], "liver_signs_since": "yes"},
        lock_version=review.lock_version,
        user=clinician,
    )
    review.refresh_from_db()
    codes = {flag.code: flag.severity for flag in load_state(review).flags}
    # From the item's own caution, and from the carried medicines (oxycodone with kratom).
    assert codes["problem:liver-injury"] == "major"
    assert codes["problem:cns-depression"] in ("major", "contraindicated")


def test_the_legal_check_is_carried_only_while_recent(settings):
    """Per substance: a recent kratom check is carried while a stale melatonin one is not."""
    settings.LEGAL_STALE_DAYS = 90
    today = datetime.date(2026, 11, 30)
    kratom = {"kratom_legal_check_source": "statute", "kratom_legal_status_found": "legal"}
    melatonin = {"melatonin_legal_check_source": "FDA"}
    place = {"jurisdiction": "US-TX"}
    recent = {**kratom, "kratom_legal_check_date": "2026-10-01"}
    stale = {**melatonin, "melatonin_legal_check_date": "2026-08-01"}
    assert without_stale_legal_check({**place, **recent}, today) == {**place, **recent}
    assert without_stale_legal_check({**place, **recent, **stale}, today) == {**place, **recent}
    bad = {**kratom, "kratom_legal_check_date": "bad"}
    assert without_stale_legal_check({**place, **bad}, today) == place


def _sign_review(case, clinician):
    review = start_response(case=case, user=clinician, template_slug="follow-up")
    fill(review, clinician, REVIEW_ANSWERS)
    assert load_state(review).missing == []
    return sign(review, clinician)


def test_signing_a_review_sets_the_next_date(case, signed_intake, clinician):
    _sign_review(case, clinician)
    case.refresh_from_db()
    assert case.follow_up_due == datetime.date(2027, 1, 15)


def test_the_timeline_shows_each_checklist_and_what_changed(
    clinician_client, case, signed_intake, clinician
):
    _sign_review(case, clinician)
    page = clinician_client.get(reverse("case_detail", args=[case.pk]))
    entries = page.context["timeline"]
    assert [e.kind for e in entries] == ["Intake", "Follow-up review"]
    changes = entries[1].changes
    assert changes.since == signed_intake
    assert [m.lower() for m in changes.started] == ["sertraline"]
    assert [m.lower() for m in changes.stopped] == ["oxycodone"]
    text = page.content.decode()
    assert "Medicines stopped" in text and "Medicines started" in text
    assert entries[0].most_serious and entries[0].most_serious[0].title in text


@pytest.mark.parametrize("persona", ["supervisor_client", "auditor_client"])
def test_supervisors_and_auditors_read_the_timeline_without_start_buttons(
    request, persona, case, signed_intake
):
    page = request.getfixturevalue(persona).get(reverse("case_detail", args=[case.pk]))
    assert page.status_code == 200 and len(page.context["timeline"]) == 1
    assert "Start a follow-up review" not in page.content.decode()


def test_an_outsider_sees_no_timeline(outsider_client, case, signed_intake):
    assert outsider_client.get(reverse("case_detail", args=[case.pk])).status_code == 404


def test_the_case_page_costs_the_same_with_more_checklists(
    clinician_client, case, signed_intake, clinician
):
    url = reverse("case_detail", args=[case.pk])
    few = count(clinician_client, "get", url)
    for _ in range(3):
        _sign_review(case, clinician)
    assert count(clinician_client, "get", url) == few == CASE_PAGE_QUERIES


# session, user, device, the case, the permissions (2), the checklists (with version,
# template and people), their frozen medicines and the audit event of the view (the
# navigation's count of follow-ups due is kept in the session).
CASE_PAGE_QUERIES = 9


def test_the_demo_has_follow_up_reviews_and_overdue_cases(settings, monkeypatch):
    settings.DEMO_MODE = True
    monkeypatch.setenv("DEMO_PASSWORD", "demo password for tests")
    call_command("load_default_content", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("seed_demo", cases=40, seed=3, stdout=open("/dev/null", "w"))  # noqa: SIM115
    reviews = ChecklistResponse.objects.filter(version__template__slug="follow-up", status="signed")
    assert reviews.exists()
    assert all(r.carried_from_id for r in reviews)
    today = timezone.localdate()
    assert PatientCase.objects.filter(follow_up_due__lt=today).exists()


def test_the_review_exports_as_a_valid_questionnaire(follow_up_version):
    import io
    import json

    from checklists.authoring import questionnaire

    out = io.StringIO()
    call_command("export_content", "--format", "fhir", "--template", "follow-up", stdout=out)
    resource = json.loads(out.getvalue())
    assert resource["resourceType"] == "Questionnaire"
    assert questionnaire.questionnaire_problems(resource) == []
