"""Garbage posted to every form: a clear answer, never a 500, nothing half-written."""

import pytest
from django.urls import reverse

from checklists.models import Answer, AuditEvent, ChecklistResponse, Item, PatientCase

from .factories import SECTION_KEYS, make_response

pytestmark = pytest.mark.django_db

GARBAGE = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "<script>alert(1)</script>",
    '=HYPERLINK("http://x")',
    "x" * 100_000,
    "-1",
    "1e309",
    "NaN",
    "2026-02-30",
    "99999999999999999999",
    "../../etc/passwd",
    "フレームワークのベンチマーク",
    "\u202eevil",
    "[]",
    "{}",
]
FIELDS = {
    "substances_in_use",
    "current_medications-0-name",
    "current_medications-0-dose",
    "current_medications-49-name",
    "current_medications-999-name",
    "combined_use",
    "pregnant",
    "age_years",
    "jurisdiction",
    "melatonin_label_checked",
    "product_in_use-0-product",
    "product_in_use-0-lot",
    "follow_up_date",
    "clinician_notes",
    "lock_version",
}


@pytest.mark.parametrize("junk", GARBAGE)
def test_case_form(clinician_client, team, junk):
    for field in ("team", "reference", "initials", "birth_year", "jurisdiction"):
        data = {"team": team.pk, "reference": "OK-1", field: junk}
        answer = clinician_client.post(reverse("case_new"), data)
        assert answer.status_code in (200, 302), (field, junk[:20])
    stored = PatientCase.objects.values_list("reference", "initials", "jurisdiction")
    assert not any("\x00" in value for row in stored for value in row)


@pytest.mark.parametrize("junk", GARBAGE)
def test_case_search_and_filter(clinician_client, junk):
    assert clinician_client.post(reverse("case_list"), {"q": junk}).status_code == 302
    assert (
        clinician_client.get(reverse("case_list"), {"status": junk, "page": junk}).status_code
        == 200
    )


def fields_of(version, section: str) -> list[str]:
    """The fields posted to a section: those of its own items (a formset row by its item's
    key), and the lock version and any field no item owns, which every section must ignore.
    A field is not posted to the sections it does not belong to: their forms never read it."""
    owners = {item.key: item.section.key for item in Item.objects.filter(section__version=version)}
    return sorted(f for f in FIELDS if owners.get(f.split("-")[0], section) == section)


@pytest.mark.parametrize("junk", GARBAGE)
def test_every_section_form(clinician_client, clinician, case, version, junk):
    response = make_response(case, clinician)
    for section in SECTION_KEYS:
        url = reverse("section", args=[response.pk, section])
        for field in fields_of(version, section):
            response.refresh_from_db(fields=["lock_version"])
            data = {"lock_version": response.lock_version, field: junk}
            answer = clinician_client.post(url, data)
            assert answer.status_code in (200, 302, 409), (section, field, junk[:20])
        answer = clinician_client.post(url, {key: junk for key in FIELDS})
        assert answer.status_code in (200, 409), (section, junk[:20])
    stored = list(Answer.objects.filter(response=response).values_list("value", flat=True))
    assert not any("\x00" in str(value) for value in stored)


def test_invalid_section_post_saves_nothing_and_keeps_what_was_typed(
    clinician_client, clinician, case, version
):
    response = make_response(case, clinician)
    url = reverse("section", args=[response.pk, "individual_variability"])
    answer = clinician_client.post(
        url, {"pregnant": "yes", "age_years": "not a number", "lock_version": 0}
    )
    assert answer.status_code == 200
    body = answer.content.decode()
    assert "Enter a number" in body and 'href="#id_age_years"' in body
    assert 'value="not a number"' in body
    assert 'value="yes" class="form-check-input"' in body and "checked" in body
    assert not Answer.objects.filter(response=response).exists()
    response.refresh_from_db()
    assert response.lock_version == 0
    assert not AuditEvent.objects.filter(action="section_saved").exists()


@pytest.mark.parametrize("junk", GARBAGE)
def test_sign_form(clinician_client, clinician, case, version, junk):
    response = make_response(case, clinician)
    for field in ("password", "attest", "lock_version"):
        data = {"password": "x", "attest": "on", "lock_version": 0, field: junk}
        answer = clinician_client.post(reverse("sign", args=[response.pk]), data)
        assert answer.status_code == 400, (field, junk[:20])
    assert ChecklistResponse.objects.get().is_draft


@pytest.mark.parametrize("junk", GARBAGE[:6])
def test_login_form(client, clinician, junk):
    answer = client.post(reverse("login"), {"username": junk, "password": junk})
    assert answer.status_code == 200


def test_non_numeric_ids_are_404(clinician_client):
    assert clinician_client.get("/cases/abc/").status_code == 404
    assert clinician_client.get("/responses/1x/review/").status_code == 404
    assert clinician_client.get("/cases/99999999999999999999999/").status_code == 404
