"""What two pages say to the person reading them: the landing page of an editor (who has no
"New case"), and the conflict page after a save from a stale page (which may have been the
same clinician's, in another tab)."""

import pytest
from django.urls import reverse

from checklists.models import Answer

from .conftest import HttpsClient, login
from .factories import make_response

pytestmark = pytest.mark.django_db


def test_an_editor_lands_on_what_an_editor_does(editor_client):
    page = editor_client.get(reverse("case_list"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Your work as a content editor" in body
    for admin_page in ("templateversion", "knowledgechange", "contentrelease"):
        assert reverse(f"admin:checklists_{admin_page}_changelist") in body
    assert "New case" not in body and reverse("case_new") not in body


def test_a_clinician_lands_on_the_cases_without_the_editors_panel(clinician_client):
    body = clinician_client.get(reverse("case_list")).content.decode()
    assert "New case" in body
    assert "Your work as a content editor" not in body


def test_an_editor_without_the_admin_is_told_whom_to_ask(client, editor):
    editor.is_staff = False
    editor.save(update_fields=["is_staff"])
    body = login(client, editor).get(reverse("case_list")).content.decode()
    assert "cannot open the content admin yet" in body
    assert reverse("admin:checklists_knowledgechange_changelist") not in body


def stale_save(first, second, response, url):
    """`first` saves "yes", then `second` saves "no" from a page opened before that save."""
    stale = response.lock_version
    first.post(url, {"pregnant": "yes", "age_years": "30", "lock_version": stale})
    return second.post(url, {"pregnant": "no", "age_years": "30", "lock_version": stale})


def test_the_same_clinician_in_two_tabs_is_not_told_someone_else_saved(clinician, case, version):
    response = make_response(case, clinician)
    url = reverse("section", args=[response.pk, "individual_variability"])
    tab = login(HttpsClient(), clinician)
    conflict = stale_save(tab, tab, response, url)
    body = conflict.content.decode()
    assert conflict.status_code == 409
    assert "saved from another page or by another person since you opened it" in body
    assert "Keep saved (by you, on another page): Yes" in body
    assert "someone else" not in body.lower()
    assert Answer.objects.get(response=response, item__key="pregnant").value == "yes"


def test_a_colleagues_save_is_named_as_theirs(clinician, colleague, case, version):
    response = make_response(case, clinician)
    url = reverse("section", args=[response.pk, "individual_variability"])
    theirs, mine = login(HttpsClient(), colleague), login(HttpsClient(), clinician)
    body = stale_save(theirs, mine, response, url).content.decode()
    assert "Keep saved (by colleague): Yes" in body
    assert "by you" not in body
