"""Serious flags gate signing; what was signed never changes when knowledge does."""

import html

import pytest
from django.urls import reverse
from django.utils import timezone

from checklists.forms import ack_field_prefix
from checklists.models import Acknowledgement, InteractionRule, LegalStatus, MedicationEntry

from .conftest import sign_data
from .factories import PASSWORD, fill, make_response

pytestmark = pytest.mark.django_db
OPIOID = "interaction:kratom:opioid-agonists"
# The problem the opioid rule belongs to: acknowledgements are per problem (issue 16).
CNS = "problem:cns-depression"


@pytest.fixture
def risky(case, clinician, version):
    """Kratom and melatonin with OxyContin: a major opioid flag needs acknowledging."""
    response = make_response(case, clinician)
    fill(response, clinician)
    return response


def test_review_lists_the_flag_with_its_advice_and_an_acknowledgement_field(
    clinician_client, risky
):
    page = clinician_client.get(reverse("review", args=[risky.pk]))
    body = page.content.decode()
    rule = InteractionRule.objects.get(code=OPIOID)
    assert rule.advice in body and "Oxycodone (opioid agonists) + kratom" in body
    assert f'name="{ack_field_prefix(CNS)}_reason"' in body
    assert CNS in [f.code for f in page.context["form"].ack_flags]


def test_signing_without_the_acknowledgement_is_refused(clinician_client, risky):
    data = sign_data(clinician_client, risky)
    del data[f"{ack_field_prefix(CNS)}_reason"]
    refused = clinician_client.post(reverse("sign", args=[risky.pk]), data)
    assert refused.status_code == 400
    body = refused.content.decode()
    title = next(f.title for f in refused.context["form"].ack_flags if f.code == CNS)
    # The error summary names the caution; the page names it once, as its group's legend.
    assert html.escape(f"Choose a reason to acknowledge “{title}”.") in body
    assert "going ahead despite" not in body
    risky.refresh_from_db()
    assert risky.is_draft and not Acknowledgement.objects.exists()


def test_other_needs_a_comment(clinician_client, risky):
    data = sign_data(clinician_client, risky, reason="other")
    refused = clinician_client.post(reverse("sign", args=[risky.pk]), data)
    assert refused.status_code == 400
    assert "Explain the reason when you choose Other" in refused.content.decode()
    for key in [k for k in data if k.endswith("_comment")]:
        data[key] = "Patient is on a supervised taper."
    signed = clinician_client.post(reverse("sign", args=[risky.pk]), data)
    assert signed.status_code == 302
    ack = Acknowledgement.objects.get(response=risky, flag_code=CNS)
    assert (ack.flag_code, ack.reason, ack.comment, ack.severity) == (
        CNS,
        "other",
        "Patient is on a supervised taper.",
        "major",
    )


def test_service_refuses_a_sign_without_acknowledgements(risky, clinician):
    from checklists.cases.signing import SignRefused, sign_response

    with pytest.raises(SignRefused, match="need an acknowledgement"):
        sign_response(
            response=risky,
            user=clinician,
            password=PASSWORD,
            attestation="ok",
            lock_version=risky.lock_version,
        )
    risky.refresh_from_db()
    assert risky.is_draft


def test_signed_snapshot_survives_a_knowledge_edit(clinician_client, risky):
    clinician_client.post(reverse("sign", args=[risky.pk]), sign_data(clinician_client, risky))
    risky.refresh_from_db()
    assert risky.status == "signed"
    rule = InteractionRule.objects.get(code=OPIOID)
    original_advice = rule.advice
    rule.advice = "Rewritten advice after a content review."
    rule.severity = "moderate"
    rule.save()
    page = clinician_client.get(reverse("response_detail", args=[risky.pk])).content.decode()
    assert original_advice in page and "Rewritten advice" not in page
    assert "acknowledged by clinician" in page
    snapshot = {f["code"]: f["severity"] for f in risky.flags_snapshot}
    assert snapshot[CNS] == "major"
    frozen = {c["code"]: c["severity"] for f in risky.flags_snapshot for c in f["contributors"]}
    assert frozen[OPIOID] == "major"
    entries = list(
        MedicationEntry.objects.filter(response=risky).values_list(
            "name_as_typed", "dose", "frequency", "matched_name"
        )
    )
    assert entries == [("oxycodone", "5 mg", "BID", "Oxycodone")]


def test_section_shows_what_each_medicine_matched(clinician_client, case, clinician, version):
    response = make_response(case, clinician)
    url = reverse("section", args=[response.pk, "medication_interactions"])
    clinician_client.post(
        url,
        {
            "substances_in_use": ["kratom"],
            "combined_use": "no",
            "lock_version": 0,
            "current_medications-0-name": "OxyContin 20mg BID",
            "current_medications-1-name": "mystery tonic",
            "stay": "",
        },
    )
    body = clinician_client.get(url).content.decode()
    assert "OxyContin 20mg BID → <strong>Oxycodone</strong>" in body
    assert "mystery tonic → <span" in body and "not in the knowledge base: check by hand" in body
    assert "mystery tonic: medicines not checked against the knowledge base" in body
    assert "Kratom with an opioid" in body


def test_minor_and_moderate_flags_do_not_interrupt(clinician_client, case, clinician, version):
    # Freshly verified legal rows, so only the medicine's minor caution remains.
    LegalStatus.objects.update(verified_on=timezone.localdate())
    response = make_response(case, clinician)
    answers = {
        "medication_interactions": {
            "substances_in_use": ["melatonin"],
            "combined_use": "no",
            "current_medications": [{"name": "metformin"}],
        },
        "individual_variability": {"pregnant": "no"},
        "legal_verification": {"jurisdiction": "US-TX"},
        "supplier_lab_testing": {"melatonin_label_checked": "yes"},
        "plan_and_monitoring": {"follow_up_date": "2026-12-01"},
    }
    fill(response, clinician, answers)
    form = clinician_client.get(reverse("review", args=[response.pk])).context["form"]
    assert form.ack_flags == []
    signed = clinician_client.post(
        reverse("sign", args=[response.pk]), sign_data(clinician_client, response)
    )
    assert signed.status_code == 302


def test_the_signed_page_names_the_acknowledger_as_signed(clinician_client, risky, clinician):
    """The checklist page names who acknowledged a problem as the exports do: the signer's
    name and credential frozen at signing, not the login name or a later rename."""
    from accounts.models import Profile

    profile = Profile.objects.create(user=clinician, full_name="Ana Ruiz", credential="MD")
    clinician_client.post(reverse("sign", args=[risky.pk]), sign_data(clinician_client, risky))
    profile.full_name = "Ana Ruiz-Smith"
    profile.save()
    page = clinician_client.get(reverse("response_detail", args=[risky.pk])).content.decode()
    assert "acknowledged by Ana Ruiz, MD" in page
    assert "acknowledged by clinician" not in page
    # The case page's list of checklists names the signer the same way.
    case_page = clinician_client.get(reverse("case_detail", args=[risky.case_id]))
    assert "<td>Ana Ruiz, MD, " in case_page.content.decode()
