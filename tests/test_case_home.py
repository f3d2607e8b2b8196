"""The clinician's home (issue 18, point 6): the case list shows each case's latest
checklist state, its most serious caution and its follow-up, with the filters "my drafts",
"follow-up due" and "serious cautions"."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from checklists.cases.signing import amend_response, return_for_amendment
from checklists.models import ChecklistResponse, PatientCase

from .conftest import login
from .factories import fill, make_bulk_responses, make_case, make_response, sign
from .test_queries import EXPECTED_QUERIES, count

pytestmark = pytest.mark.django_db


def freeze_mild_flags(response) -> None:
    """Give a signed checklist a frozen snapshot whose worst flag is moderate: the list
    reads only the snapshot, whatever screening would say today."""
    flags = [{"code": "problem:x", "severity": "moderate", "title": "Moderate"}]
    ChecklistResponse.objects.filter(pk=response.pk).update(flags_snapshot=flags)


def rows(client, **params) -> dict:
    """The page's cases by reference, each with the columns' annotated values."""
    page = client.get(reverse("case_list"), params)
    assert page.status_code == 200
    return {case.reference: case for case in page.context["page"].object_list}


def signed_case(team, user, reference):
    case = make_case(team, user, reference=reference)
    response = make_response(case, user)
    fill(response, user)
    return case, sign(response, user)


def set_follow_up(case, days_from_today: int) -> None:
    due = timezone.localdate() + datetime.timedelta(days=days_from_today)
    PatientCase.objects.filter(pk=case.pk).update(follow_up_due=due)


def test_a_draft_shows_its_state_and_sends_the_reader_to_the_checklist_for_cautions(
    clinician_client, clinician, case, version
):
    make_response(case, clinician)
    row = rows(clinician_client)["MRN-1001"]
    assert (row.latest_state, row.latest_revision, row.latest_version) == ("draft", 1, 1)
    assert row.signed_caution is None
    html = clinician_client.get(reverse("case_list")).content.decode()
    assert "draft: see checklist" in html and ">Draft</span>" in html


def test_a_signed_case_shows_its_most_serious_frozen_caution(
    clinician_client, clinician, team, version
):
    _, response = signed_case(team, clinician, "SERIOUS")
    severities = {flag["severity"] for flag in response.flags_snapshot}
    assert "major" in severities or "contraindicated" in severities
    row = rows(clinician_client)["SERIOUS"]
    assert row.latest_state == "signed"
    expected = "contraindicated" if "contraindicated" in severities else "major"
    assert row.signed_caution == expected
    assert "at signing" in clinician_client.get(reverse("case_list")).content.decode()


def test_a_case_without_a_checklist_shows_none_yet(clinician_client, case):
    row = rows(clinician_client)["MRN-1001"]
    assert row.latest_state is None and row.signed_caution is None
    assert "None yet" in clinician_client.get(reverse("case_list")).content.decode()


def test_an_amended_case_shows_its_revision_and_the_amendments_cautions(
    clinician_client, clinician, team, version
):
    _, first = signed_case(team, clinician, "AMENDED")
    amendment = amend_response(response=first, user=clinician, reason="wrong medicine list")
    row = rows(clinician_client)["AMENDED"]
    assert (row.latest_state, row.latest_revision) == ("amending", 2)
    # Until the amendment is signed, the caution is the first revision's.
    assert row.signed_caution in ("major", "contraindicated")
    fill(amendment, clinician)
    freeze_mild_flags(sign(amendment, clinician))
    row = rows(clinician_client)["AMENDED"]
    assert (row.latest_state, row.latest_revision) == ("amended", 2)
    assert row.signed_caution == "moderate"
    assert "rev 2" in clinician_client.get(reverse("case_list")).content.decode()


def test_a_returned_checklist_shows_as_returned(
    clinician_client, clinician, supervisor, team, version
):
    _, response = signed_case(team, clinician, "RETURNED")
    return_for_amendment(response=response, user=supervisor, comment="Check the dose.")
    assert rows(clinician_client)["RETURNED"].latest_state == "returned"


def test_my_drafts_excludes_a_colleagues_draft(
    clinician_client, clinician, colleague, team, version
):
    make_response(make_case(team, clinician, reference="MINE"), clinician)
    make_response(make_case(team, colleague, reference="THEIRS"), colleague)
    signed_case(team, clinician, "SIGNED-ONLY")
    assert set(rows(clinician_client, status="my_drafts")) == {"MINE"}
    assert set(rows(clinician_client, status="draft")) == {"MINE", "THEIRS"}


def test_follow_up_due_includes_today_and_past_and_excludes_future(
    clinician_client, clinician, team
):
    for reference, days in [("TODAY", 0), ("PAST", -3), ("FUTURE", 1)]:
        set_follow_up(make_case(team, clinician, reference=reference), days)
    make_case(team, clinician, reference="UNSET")
    assert set(rows(clinician_client, status="follow_up_due")) == {"TODAY", "PAST"}


def test_serious_cautions_lists_only_latest_signed_checklists_with_a_serious_flag(
    clinician_client, clinician, team, version
):
    signed_case(team, clinician, "SERIOUS")
    freeze_mild_flags(signed_case(team, clinician, "MILD")[1])
    make_response(make_case(team, clinician, reference="DRAFT"), clinician)
    _, first = signed_case(team, clinician, "CORRECTED")
    amendment = amend_response(response=first, user=clinician, reason="not taking oxycodone")
    fill(amendment, clinician)
    freeze_mild_flags(sign(amendment, clinician))
    assert set(rows(clinician_client, status="serious")) == {"SERIOUS"}


@pytest.mark.parametrize("status", ["", "my_drafts", "follow_up_due", "serious", "draft", "signed"])
def test_an_outsider_never_sees_another_teams_cases_through_a_filter(
    client, clinician, outsider, team, version, status
):
    serious, _ = signed_case(team, clinician, "NORTH-SERIOUS")
    set_follow_up(serious, -1)
    make_response(make_case(team, clinician, reference="NORTH-DRAFT"), clinician)
    # The outsider's own draft on a case of the other team's reference space.
    make_response(make_case(outsider.teams.get(), outsider, reference="SOUTH"), outsider)
    login(client, outsider)
    page = client.get(reverse("case_list"), {"status": status})
    assert not {"NORTH-SERIOUS", "NORTH-DRAFT"} & set(rows(client, status=status))
    assert "NORTH-" not in page.content.decode()


@pytest.mark.parametrize(
    "junk", ["nonsense", "serious'--", "my_drafts\x00", "x" * 5000, "<script>", "%00"]
)
def test_a_junk_filter_shows_every_case_with_a_message(clinician_client, clinician, team, junk):
    make_case(team, clinician, reference="ANY")
    page = clinician_client.get(reverse("case_list"), {"status": junk})
    assert page.status_code == 200
    assert [c.reference for c in page.context["page"].object_list] == ["ANY"]
    assert "not one of the choices" in page.content.decode()


def test_a_repeated_filter_parameter_is_not_an_error(clinician_client, clinician, team):
    make_case(team, clinician, reference="ANY")
    page = clinician_client.get(reverse("case_list") + "?status=serious&status=nonsense")
    assert page.status_code == 200


@pytest.mark.parametrize("status", ["", "my_drafts", "follow_up_due", "serious"])
@pytest.mark.parametrize("cases", [3, 60])
def test_the_columns_and_filters_cost_the_same_queries_at_any_number_of_cases(
    clinician_client, clinician, team, version, cases, status
):
    major = [{"code": "problem:x", "severity": "major", "title": "Major"}]
    make_bulk_responses(team, clinician, version, cases, flags=major)
    make_bulk_responses(team, clinician, version, cases, status="draft")
    # Every filter matches some case: an empty page skips the rows query.
    PatientCase.objects.update(follow_up_due=timezone.localdate())
    url = reverse("case_list") + f"?status={status}"
    assert count(clinician_client, "get", url) == EXPECTED_QUERIES["case_list"]
