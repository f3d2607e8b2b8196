"""No page offers an action its user would be refused.

For each persona, the case, response and review pages are read; every form that posts,
and every link into a section, is collected; each is then used as that persona would use
it and must not be refused (403) or sent back read-only. The table below also says which
actions each persona is offered, so a button that silently disappears fails too.
"""

import re

import pytest
from django.urls import reverse

from checklists.roles import AUDITOR, SUPERVISOR

from .conftest import HttpsClient, login
from .factories import fill, make_case, make_response, make_user, sign

pytestmark = pytest.mark.django_db

FORM_ACTION = re.compile(r'<form[^>]*method="post"[^>]*action="([^"]+)"')
# Links into a section, and the "Amend" button (issue 19: it leads to the short form).
SECTION_LINK = re.compile(r'href="(/responses/\d+/(?:sections/[a-z_]+|amend)/)')
# Forms every signed-in page carries (logout, the case search), not actions on the object.
SITE_WIDE = {"/accounts/logout/", "/cases/"}


@pytest.fixture
def people(team):
    return {
        "clinician": make_user("clin", teams=[team]),
        "supervisor": make_user("sup", role=SUPERVISOR, teams=[team]),
        "auditor": make_user("aud", role=AUDITOR, teams=[team]),
    }


@pytest.fixture
def pages(version, team, people):
    clinician = people["clinician"]
    case = make_case(team, clinician, reference="OFFER-1")
    signed = make_response(case, clinician)
    fill(signed, clinician)
    sign(signed, clinician)
    draft = make_response(make_case(team, clinician, reference="OFFER-2"), clinician)
    fill(draft, clinician)
    return {
        "case": reverse("case_detail", args=[case.pk]),
        "draft": reverse("response_detail", args=[draft.pk]),
        "signed": reverse("response_detail", args=[signed.pk]),
        "review": reverse("review", args=[draft.pk]),
    }


def offered(client, url) -> set[str]:
    html = client.get(url).content.decode()
    return (set(FORM_ACTION.findall(html)) | set(SECTION_LINK.findall(html))) - SITE_WIDE


def kinds(actions: set[str]) -> set[str]:
    """Each offered URL by what it does: start, edit, section, sign, amend, return..."""
    named = set()
    for url in actions:
        tail = url.rstrip("/").split("/")
        named.add("section" if "sections" in tail else tail[-1])
    return named


# What each persona is offered on each page (URL kinds; see `kinds`).
EXPECTED = {
    "clinician": {
        "case": {"new"},  # /cases/<id>/checklists/new/: start a checklist
        "draft": {"section"},
        "signed": {"amend"},
        "review": {"section", "sign"},
    },
    "supervisor": {"case": set(), "draft": set(), "signed": {"return"}, "review": set()},
    "auditor": {"case": set(), "draft": set(), "signed": set(), "review": set()},
}


@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_each_persona_is_offered_exactly_its_actions(people, pages, persona):
    client = login(HttpsClient(), people[persona])
    got = {page: kinds(offered(client, url)) for page, url in pages.items()}
    assert got == EXPECTED[persona]


@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_no_offered_action_is_refused(people, pages, persona):
    client = login(HttpsClient(), people[persona])
    for page, url in pages.items():
        for action in offered(client, url):
            if "/sections/" in action or action.endswith("/amend/"):
                answer = client.get(action)
                assert answer.status_code == 200, (persona, page, action)
            else:
                answer = client.post(action, {})
                assert answer.status_code not in (403, 404, 405, 409), (persona, page, action)


def test_the_case_edit_link_only_for_those_who_may_edit(people, pages):
    for persona, shown in (("clinician", True), ("supervisor", False), ("auditor", False)):
        html = login(HttpsClient(), people[persona]).get(pages["case"]).content.decode()
        assert ("/edit/" in html) is shown, persona


def test_the_author_of_a_version_in_review_is_not_offered_approve(version, editor, second_editor):
    from checklists.authoring import workflow

    draft = workflow.new_draft_from(version=version, user=editor)
    workflow.submit_for_review(version=draft, user=editor, summary="Clearer wording.")
    # Approving and sending back are on the approval page (issue 21).
    url = reverse("admin:checklists_version_review", args=[draft.pk])
    approve = reverse("admin:checklists_version_workflow", args=[draft.pk, "approve"])
    author_page = login(HttpsClient(), editor).get(url).content.decode()
    reviewer_page = login(HttpsClient(), second_editor).get(url).content.decode()
    assert approve not in author_page
    assert reverse("admin:checklists_version_workflow", args=[draft.pk, "return"]) in author_page
    assert approve in reviewer_page


def test_the_write_functions_refuse_what_the_pages_do_not_offer(people, pages, team):
    """A page hiding a button is not the guard: the write functions ask access.py too."""
    from checklists.access import Refused
    from checklists.cases.cases import create_case
    from checklists.cases.drafts import start_response
    from checklists.cases.signing import amend_response, return_for_amendment
    from checklists.models import ChecklistResponse, PatientCase

    case = PatientCase.objects.get(reference="OFFER-1")
    signed = ChecklistResponse.objects.get(case=case, status="signed")
    for persona in ("supervisor", "auditor"):
        user = people[persona]
        with pytest.raises(Refused):
            start_response(case=case, user=user)
        with pytest.raises(Refused):
            create_case(user=user, team=team, reference=f"NEW-{persona}")
        with pytest.raises(Refused):
            amend_response(response=signed, user=user, reason="not theirs to amend")
    with pytest.raises(Refused):
        return_for_amendment(response=signed, user=people["clinician"], comment="not theirs")
    assert (
        case.responses.count() == 1
        and not PatientCase.objects.filter(reference__startswith="NEW-").exists()
    )
