"""FHIR (issue 19 point 3): the Bundle of the realistic patient's signed checklist holds a
MedicationStatement per listed medicine and a Practitioner for the signer, and the
DetectedIssues point at them; validated with fhir.resources (R4B)."""

import json

import pytest
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from accounts.models import Profile
from checklists.authoring import files, loaders

from .conftest import HttpsClient, login
from .factories import fill, make_case, make_response, make_team, make_user, sign
from .test_exports import of_type
from .test_problems import PATIENT_ANSWERS

pytestmark = pytest.mark.django_db


def _signed_bundle(answers: dict) -> dict:
    """The FHIR Bundle of a signed checklist with these answers."""
    team = make_team()
    user = make_user(teams=[team])
    Profile.objects.create(
        user=user, full_name="Dana Reyes", credential="PharmD", registration_number="RPh-4411"
    )
    response = make_response(make_case(team, user, birth_year=1974), user)
    fill(response, user, answers)
    sign(response, user)
    client = login(HttpsClient(), user)
    answer = client.get(reverse("export_fhir", args=[response.pk]))
    assert answer.status_code == 200
    data = json.loads(answer.content)
    Bundle.model_validate(data)  # R4B: MedicationStatement and Practitioner included
    return data


@pytest.fixture
def template(db):
    loaders.load_template(files.read_json(files.CONTENT_DIR / "default_checklist.json"))


@pytest.fixture
def bundle(template):
    return _signed_bundle(PATIENT_ANSWERS)


def _url_of(bundle: dict, resource: dict) -> str:
    return next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is resource)


def test_one_medication_statement_per_listed_medicine(bundle):
    statements = of_type(bundle, "MedicationStatement")
    listed = PATIENT_ANSWERS["medication_interactions"]["current_medications"]
    assert [s["medicationCodeableConcept"]["text"] for s in statements] == [
        m["name"] for m in listed
    ]
    by_text = {s["medicationCodeableConcept"]["text"]: s for s in statements}
    tramadol = by_text["tramadol"]
    (coding,) = tramadol["medicationCodeableConcept"]["coding"]
    assert coding["code"] == "tramadol" and coding["display"] == "Tramadol"
    assert coding["system"].endswith("/CodeSystem/substance")
    assert tramadol["dosage"] == [{"text": "50 mg as needed"}]
    assert tramadol["status"] == "active"
    assert tramadol["derivedFrom"] == [{"reference": bundle["entry"][0]["fullUrl"]}]


def test_no_rxnorm_code_is_made_up(bundle):
    """The knowledge base holds no RxNorm code, so none is sent."""
    assert "rxnorm" not in json.dumps(bundle).lower()


def test_the_signer_is_a_practitioner_with_the_qualification(bundle):
    (practitioner,) = of_type(bundle, "Practitioner")
    assert practitioner["name"] == [{"text": "Dana Reyes"}]
    assert practitioner["qualification"] == [{"code": {"text": "PharmD"}}]
    assert {"type": {"text": "Registration number"}, "value": "RPh-4411"} in practitioner[
        "identifier"
    ]
    author = {"reference": _url_of(bundle, practitioner)}
    for statement in of_type(bundle, "MedicationStatement"):
        assert statement["informationSource"] == author
    for issue in of_type(bundle, "DetectedIssue"):
        assert issue["author"] == author


def test_a_detected_issue_implicates_the_medicines_its_problem_names(bundle):
    urls = {
        s["medicationCodeableConcept"]["text"]: _url_of(bundle, s)
        for s in of_type(bundle, "MedicationStatement")
    }
    issues = {i["code"]["coding"][0]["code"]: i for i in of_type(bundle, "DetectedIssue")}
    implicated = {
        code: {ref["reference"] for ref in issue["implicated"]} for code, issue in issues.items()
    }
    qr = bundle["entry"][0]["fullUrl"]
    cns = implicated["problem:cns-depression"]
    assert cns == {urls["tramadol"], urls["alprazolam"], qr}
    assert implicated["problem:serotonin-toxicity"] == {urls["sertraline"], urls["tramadol"], qr}
    # A problem no medicine contributes to points at the checklist alone.
    assert implicated["problem:liver-injury"] == {qr}


def _implicated(bundle: dict) -> dict[str, set[str]]:
    """Per problem code, the listed medicines (as entered) its DetectedIssue implicates."""
    texts = {
        _url_of(bundle, s): s["medicationCodeableConcept"]["text"]
        for s in of_type(bundle, "MedicationStatement")
    }
    return {
        issue["code"]["coding"][0]["code"]: {
            texts[ref["reference"]] for ref in issue["implicated"] if ref["reference"] in texts
        }
        for issue in of_type(bundle, "DetectedIssue")
    }


def test_implicated_medicines_are_the_entries_screening_matched_not_words_in_a_title(template):
    """A kratom product in the list is kratom use: the opioid problem implicates it with the
    opioid, though neither its name nor its substance's is a word of the problem's title; a
    product is implicated for the ingredient that raised the problem."""
    answers = {
        **PATIENT_ANSWERS,
        "medication_interactions": {
            **PATIENT_ANSWERS["medication_interactions"],
            "current_medications": [
                {"name": "7-OH tablets", "dose": "1 tablet", "frequency": "daily"},
                {"name": "Tylenol #3", "dose": "1 tablet", "frequency": "as needed"},
                {"name": "vitamin D", "dose": "1000 IU", "frequency": "daily"},
            ],
        },
    }
    implicated = _implicated(_signed_bundle(answers))
    assert implicated["problem:cns-depression"] == {"7-OH tablets", "Tylenol #3"}
    # An unmatched medicine is implicated where it is the problem: checking it by hand.
    assert implicated["problem:unchecked-medicines"] == {"vitamin D"}
    assert [code for code, named in implicated.items() if "vitamin D" in named] == [
        "problem:unchecked-medicines"
    ]
