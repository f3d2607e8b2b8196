"""A GET on a form-only address (sign, start a checklist...) answers with a page in
the site's layout, still 405 with its Allow header, instead of a blank page; the link back
appears only to someone who may see what the address names."""

import pytest
from django.urls import reverse

from .factories import make_response

pytestmark = pytest.mark.django_db

TITLE = "This address only takes a form submission"


def test_a_get_on_sign_explains_and_links_back_to_the_checklist(
    clinician_client, case, clinician, version
):
    response = make_response(case, clinician)
    answer = clinician_client.get(reverse("sign", args=[response.pk]))
    assert answer.status_code == 405
    assert answer["Allow"] == "POST"
    page = answer.content.decode()
    assert TITLE in page and "Skip to main content" in page  # base.html's layout
    assert f'href="{reverse("response_detail", args=[response.pk])}"' in page


def test_a_get_on_amend_of_a_draft_goes_back_to_the_checklist(
    clinician_client, case, clinician, version
):
    """Amend is a page now (issue 19: the short form behind the Amend button); a draft has
    nothing to amend, so its address leads back to the checklist."""
    response = make_response(case, clinician)
    answer = clinician_client.get(reverse("amend", args=[response.pk]))
    assert answer.status_code == 302
    assert answer["Location"] == reverse("response_detail", args=[response.pk])


def test_a_get_on_start_checklist_links_back_to_the_case(clinician_client, case):
    answer = clinician_client.get(reverse("checklist_start", args=[case.pk]))
    assert answer.status_code == 405
    assert answer["Allow"] == "POST"
    assert f'href="{reverse("case_detail", args=[case.pk])}"' in answer.content.decode()


def test_an_outsider_learns_nothing_about_another_teams_response(
    outsider_client, case, clinician, version
):
    response = make_response(case, clinician)
    answer = outsider_client.get(reverse("sign", args=[response.pk]))
    missing = outsider_client.get(reverse("sign", args=[response.pk + 1000]))
    assert answer.status_code == missing.status_code == 405
    page = answer.content.decode()
    assert TITLE in page
    assert reverse("response_detail", args=[response.pk]) not in page
    assert reverse("case_detail", args=[case.pk]) not in page
    assert (
        "Back to the checklist" not in page
        and "Back to the checklist" not in missing.content.decode()
    )


def test_a_post_to_a_page_that_only_reads_gets_the_page_too(clinician_client, case):
    answer = clinician_client.post(reverse("case_detail", args=[case.pk]))
    assert answer.status_code == 405
    assert "GET" in answer["Allow"]
    assert TITLE in answer.content.decode()
