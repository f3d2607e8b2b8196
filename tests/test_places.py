"""Places by name: "Texas", "TX", "US-TX" and "texas" are one place of the legal table; an
unknown or ambiguous place is refused with the places it might mean; the code is stored."""

import pytest
from django.urls import reverse

from checklists.models import Answer, Jurisdiction, PatientCase
from checklists.models.legal import resolve_place

from .factories import make_case, make_response

pytestmark = pytest.mark.django_db

PLACES = [("CA", "Canada"), ("US", "United States"), ("US-CA", "California"), ("US-TX", "Texas")]


def resolved(text: str) -> str | None:
    return Jurisdiction.objects.resolve(text).code


@pytest.mark.parametrize(
    "typed, code",
    [
        ("US-TX", "US-TX"),  # the code
        ("us-tx", "US-TX"),
        ("Texas", "US-TX"),  # the name, whatever the case and spacing
        ("  TEXAS ", "US-TX"),
        ("TX", "US-TX"),  # a US state's postal code
        ("tx", "US-TX"),
        ("Texas (US-TX)", "US-TX"),  # what the suggestion list puts in the box
        ("United Kingdom", "GB"),
        ("gb", "GB"),
        ("District of Columbia", "US-DC"),
        ("San Diego", "US-CA-SAN-DIEGO"),  # a locality, without "(city)"
        ("San Diego (city), California (US-CA-SAN-DIEGO)", "US-CA-SAN-DIEGO"),
    ],
)
def test_a_place_is_found_by_code_name_or_postal_code(typed, code):
    assert resolved(typed) == code


def test_a_code_that_fits_two_places_is_ambiguous_and_names_both():
    match = Jurisdiction.objects.resolve("CA")
    assert match.code is None and match.ambiguous
    assert [code for code, _ in match.candidates] == ["CA", "US-CA"]


def test_a_suggestion_whose_name_and_code_disagree_is_not_guessed():
    match = Jurisdiction.objects.resolve("Texas (US-CA)")
    assert match.code is None and match.ambiguous
    assert {code for code, _ in match.candidates} == {"US-CA", "US-TX"}


@pytest.mark.parametrize(
    "typed, closest",
    [
        ("Victoria", "US-VA"),  # not in the table: the nearest spelling
        ("Texsa", "US-TX"),
        ("Tex", "US-TX"),  # a beginning is not enough on the server
        ("US-XX", "US"),  # an unknown state code: the country it sits under
    ],
)
def test_an_unknown_place_is_not_found_and_the_closest_are_offered(typed, closest):
    match = Jurisdiction.objects.resolve(typed)
    assert match.code is None and not match.ambiguous
    assert closest in [code for code, _ in match.candidates]
    assert len(match.candidates) <= 5


def test_nothing_typed_is_no_place_and_no_candidates():
    assert resolve_place("   ", PLACES).candidates == ()


def test_the_resolver_reads_the_table_once_and_the_pure_one_not_at_all(
    django_assert_num_queries,
):
    with django_assert_num_queries(1):
        Jurisdiction.objects.resolve("Texas")
    with django_assert_num_queries(0):
        assert resolve_place("tx", PLACES).code == "US-TX"


# --- The case form ---------------------------------------------------------------------


def new_case(client, team, place: str, reference: str = "PLACE-1"):
    return client.post(
        reverse("case_new"), {"team": team.pk, "reference": reference, "jurisdiction": place}
    )


def test_the_case_form_offers_the_places_by_name_and_code(clinician_client):
    body = clinician_client.get(reverse("case_new")).content.decode()
    assert 'list="id_jurisdiction-places"' in body
    assert '<option value="Texas (US-TX)">' in body


def test_the_case_form_takes_a_name_and_stores_the_code(clinician_client, team):
    page = new_case(clinician_client, team, "texas")
    case = PatientCase.objects.get(reference="PLACE-1")
    assert page.status_code == 302 and case.jurisdiction == "US-TX"
    shown = clinician_client.get(page.url).content.decode()
    assert "for a patient in Texas (US-TX)" in shown


def test_the_case_form_refuses_an_unknown_place_with_the_closest_and_saves_nothing(
    clinician_client, team
):
    page = new_case(clinician_client, team, "Victoria")
    assert page.status_code == 200
    error = str(page.context["form"].errors["jurisdiction"])
    assert "“Victoria” is not in the legal table. Closest:" in error
    assert "Virginia (US-VA)" in error
    assert not PatientCase.objects.filter(reference="PLACE-1").exists()


def test_the_case_form_refuses_a_state_code_the_table_does_not_know(clinician_client, team):
    page = new_case(clinician_client, team, "US-XX")
    assert page.status_code == 200
    assert "United States (US)" in str(page.context["form"].errors["jurisdiction"])
    assert not PatientCase.objects.exists()


def test_the_case_form_refuses_an_ambiguous_code_naming_both_places(clinician_client, team):
    page = new_case(clinician_client, team, "ca")
    error = str(page.context["form"].errors["jurisdiction"])
    assert "“ca” could be Canada (CA) or California (US-CA)" in error
    assert not PatientCase.objects.exists()


def test_a_case_saved_again_unchanged_keeps_its_code(clinician_client, clinician, team):
    case = make_case(team, clinician, jurisdiction="CA")  # Canada, from before this change
    url = reverse("case_edit", args=[case.pk])
    form = clinician_client.get(url).content.decode()
    assert 'value="Canada (CA)"' in form  # shown by name, so saving it again is not ambiguous
    page = clinician_client.post(url, {"jurisdiction": "Canada (CA)"}, follow=True)
    assert "Nothing changed." in page.content.decode()
    case.refresh_from_db()
    assert case.jurisdiction == "CA"


# --- The checklist's place item --------------------------------------------------------


def legal_section(client, response, place: str, lock_version: int = 0):
    url = reverse("section", args=[response.pk, "legal_verification"])
    return client.post(url, {"jurisdiction": place, "lock_version": lock_version, "stay": ""})


def stored_place(response):
    return Answer.objects.filter(response=response, item__key="jurisdiction").first()


def test_the_checklist_item_accepts_a_name_and_stores_the_code(
    clinician_client, clinician, case, version
):
    response = make_response(case, clinician)
    page = legal_section(clinician_client, response, "Louisiana")
    assert page.status_code == 302
    assert stored_place(response).value == "US-LA"
    body = clinician_client.get(page.url).content.decode()
    assert 'value="Louisiana (US-LA)"' in body


def test_the_checklist_item_refuses_an_ambiguous_place_and_saves_nothing(
    clinician_client, clinician, case, version
):
    response = make_response(case, clinician)
    page = legal_section(clinician_client, response, "CA")
    assert page.status_code == 200
    assert "could be Canada (CA) or California (US-CA)" in page.content.decode()
    assert stored_place(response) is None
