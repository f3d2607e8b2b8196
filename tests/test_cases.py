"""The case list and new-case screens, as a clinician uses them."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from checklists.models import AuditEvent, PatientCase

from .factories import FOLLOW_UP_DATE, fill, make_case, make_response, sign

pytestmark = pytest.mark.django_db


def refs(response):
    return [case.reference for case in response.context["page"].object_list]


def test_lists_only_the_clinicians_teams_cases(
    clinician_client, clinician, team, outsider, other_team
):
    make_case(team, clinician, reference="MINE-1")
    make_case(other_team, outsider, reference="THEIRS-1")
    page = clinician_client.get(reverse("case_list"))
    assert page.status_code == 200
    assert refs(page) == ["MINE-1"]
    assert "THEIRS-1" not in page.content.decode()


def test_25_per_page(clinician_client, clinician, team):
    for n in range(30):
        make_case(team, clinician, reference=f"P-{n:02d}")
    first = clinician_client.get(reverse("case_list"))
    second = clinician_client.get(reverse("case_list"), {"page": 2})
    assert len(refs(first)) == 25 and len(refs(second)) == 5
    assert set(refs(first)).isdisjoint(refs(second))


def test_search_by_reference_travels_by_post_not_url(clinician_client, clinician, team):
    make_case(team, clinician, reference="MRN-2001")
    make_case(team, clinician, reference="MRN-3001")
    searched = clinician_client.post(reverse("case_list"), {"q": "2001"})
    assert searched.status_code == 302 and "2001" not in searched["Location"]
    page = clinician_client.get(searched["Location"])
    assert refs(page) == ["MRN-2001"]
    cleared = clinician_client.post(reverse("case_list"), {"q": ""})
    assert len(refs(clinician_client.get(cleared["Location"]))) == 2


def test_status_filters(clinician_client, clinician, team, version):
    make_case(team, clinician, reference="EMPTY")
    drafting = make_case(team, clinician, reference="DRAFTING")
    make_response(drafting, clinician)
    signed = make_case(team, clinician, reference="SIGNED")
    response = make_response(signed, clinician)
    fill(response, clinician)
    sign(response, clinician)
    due = make_case(team, clinician, reference="DUE")
    PatientCase.objects.filter(pk=due.pk).update(
        follow_up_due=timezone.localdate() - datetime.timedelta(days=1)
    )

    def filtered(status):
        return sorted(refs(clinician_client.get(reverse("case_list"), {"status": status})))

    assert filtered("draft") == ["DRAFTING"]
    assert filtered("signed") == ["SIGNED"]
    assert filtered("follow_up_due") == ["DUE"]
    assert filtered("") == ["DRAFTING", "DUE", "EMPTY", "SIGNED"]
    assert filtered("nonsense") == ["DRAFTING", "DUE", "EMPTY", "SIGNED"]


def test_signing_sets_the_follow_up_shown_on_case_and_list(
    clinician_client, clinician, case, version
):
    response = make_response(case, clinician)
    fill(response, clinician)
    sign(response, clinician)
    case.refresh_from_db()
    assert case.follow_up_due == FOLLOW_UP_DATE
    assert (
        FOLLOW_UP_DATE.isoformat()
        in clinician_client.get(reverse("case_detail", args=[case.pk])).content.decode()
    )
    assert FOLLOW_UP_DATE.isoformat() in clinician_client.get(reverse("case_list")).content.decode()


def test_new_case_stores_only_what_the_checklist_needs(clinician_client, team):
    created = clinician_client.post(
        reverse("case_new"),
        {
            "team": team.pk,
            "reference": "MRN-9",
            "initials": "",
            "birth_year": "",
            "jurisdiction": "",
        },
    )
    case = PatientCase.objects.get(reference="MRN-9")
    assert created["Location"] == reverse("case_detail", args=[case.pk])
    assert (case.initials, case.birth_year, case.jurisdiction) == ("", None, "")
    assert AuditEvent.objects.filter(action="case_created", case_id=case.pk).count() == 1


def test_duplicate_reference_in_the_team_is_a_field_error(clinician_client, clinician, team):
    make_case(team, clinician, reference="MRN-1")
    again = clinician_client.post(
        reverse("case_new"),
        {"team": team.pk, "reference": "MRN-1", "initials": "XY", "birth_year": "1970"},
    )
    assert again.status_code == 200
    assert "already has a case with this reference" in again.content.decode()
    assert again.context["form"].errors["reference"]
    # What was typed is shown again.
    assert 'value="XY"' in again.content.decode() and 'value="1970"' in again.content.decode()
    assert PatientCase.objects.filter(reference="MRN-1").count() == 1


def test_same_reference_in_another_team_is_fine(clinician_client, outsider, other_team, team):
    make_case(other_team, outsider, reference="MRN-1")
    clinician_client.post(reverse("case_new"), {"team": team.pk, "reference": "MRN-1"})
    assert PatientCase.objects.filter(reference="MRN-1").count() == 2


def test_cannot_create_a_case_in_someone_elses_team(clinician_client, other_team):
    refused = clinician_client.post(
        reverse("case_new"), {"team": other_team.pk, "reference": "X-1"}
    )
    assert refused.status_code == 200 and refused.context["form"].errors["team"]
    assert not PatientCase.objects.exists()


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("reference", "", "This field is required"),
        ("reference", "<script>alert(1)</script>", "letters, digits"),
        ("reference", "A" * 41, "at most 40"),
        ("initials", "A1", "up to 4 letters"),
        ("birth_year", "1850", "between 1900"),
        ("birth_year", "abc", "whole number"),
        ("jurisdiction", "Texas!", "not in the legal table. Closest: Texas (US-TX)"),
    ],
)
def test_bad_case_input_gets_a_clear_field_error(clinician_client, team, field, value, message):
    data = {"team": team.pk, "reference": "OK-1", field: value}
    page = clinician_client.post(reverse("case_new"), data)
    assert page.status_code == 200
    assert message in str(page.context["form"].errors[field])
    assert not PatientCase.objects.exists()
