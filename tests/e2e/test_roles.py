"""The editor and the auditor in the browser."""

import re

from checklists.cases.drafts import DEFAULT_TEMPLATE_SLUG as INTAKE
from checklists.cases.drafts import start_response
from checklists.models import TemplateVersion

from ..factories import fill, make_case, make_editor, sign
from .conftest import log_in
from .helpers import default_answers


def test_editors_publish_a_new_version_through_the_admin_workflow(page, site, steps):
    """One editor drafts and submits; a second editor, who did not touch it, approves and
    publishes; the old version retires and new checklists start on the new one."""
    published = TemplateVersion.objects.published().get(template__slug=INTAKE)
    make_editor("editor")
    make_editor("reviewer")
    url = site["url"]

    log_in(page, url, "editor")
    page.get_by_role("link", name="Content admin").click()
    page.get_by_role("link", name="Template versions").first.click()
    published_row = (
        page.get_by_role("row")
        .filter(has=page.get_by_role("cell", name="Published", exact=True))
        .filter(has_text=re.compile("intake", re.IGNORECASE))  # not the follow-up review
    )
    published_row.get_by_role("link").first.click()
    page.get_by_role("heading", name="Workflow: Published").wait_for()
    steps.shot("published version")
    page.get_by_role("button", name="New draft from this version").click()
    page.get_by_text("Draft.", exact=False).first.wait_for()
    draft = TemplateVersion.objects.get(status=TemplateVersion.Status.DRAFT)
    assert draft.number == published.number + 1
    item = draft.items.get(key="prescriber_consulted")
    page.goto(f"{url}/admin/checklists/item/{item.pk}/change/")
    page.get_by_label("Help text").fill("Ask who prescribes each medicine, and when.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_text("was changed successfully").wait_for()
    steps.shot("item changed")

    page.goto(f"{url}/admin/checklists/templateversion/{draft.pk}/change/")
    page.locator("#id_summary").fill("Clearer wording for the prescriber question.")
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_text(f"v{draft.number}: In review").wait_for()
    steps.shot("submitted")
    # The author may not approve their own work: the button is not offered (and the
    # service would refuse it, tests/test_workflow.py).
    assert page.get_by_role("button", name="Confirm: approve and publish").count() == 0
    draft.refresh_from_db()
    assert draft.status == TemplateVersion.Status.IN_REVIEW

    page.context.clear_cookies()
    log_in(page, url, "reviewer")
    page.goto(f"{url}/admin/checklists/templateversion/{draft.pk}/change/")
    page.get_by_role("link", name="Compare with another version").click()
    page.get_by_text("Ask who prescribes each medicine, and when.").first.wait_for()
    steps.shot("reviewer reads the changes")
    page.go_back()
    page.get_by_role("link", name="Review the changes, then approve or send back").click()
    page.get_by_label("I reviewed each change listed above").check()
    page.get_by_role("button", name="Confirm: approve and publish").click()
    page.get_by_text(f"v{draft.number}: Published").wait_for()
    steps.shot("published")

    draft.refresh_from_db()
    published.refresh_from_db()
    assert draft.status == TemplateVersion.Status.PUBLISHED
    assert draft.approver.username == "reviewer" and draft.author.username == "editor"
    assert published.status == TemplateVersion.Status.RETIRED
    case = make_case(site["team"], site["clinician"])
    response = start_response(case=case, user=site["clinician"])
    assert response.version_id == draft.pk


def test_auditor_finds_the_signing_in_the_audit_trail(page, site, auditor):
    clinician = site["clinician"]
    version = TemplateVersion.objects.published().get(template__slug=INTAKE)
    case = make_case(site["team"], clinician, reference="MRN-4001")
    response = start_response(case=case, user=clinician)
    fill(response, clinician, default_answers(version))
    sign(response, clinician)

    log_in(page, site["url"], "auditor")
    page.get_by_role("link", name="Audit trail").click()
    page.get_by_label("Action").select_option(label="Checklist signed")
    page.get_by_label("Case id").fill(str(case.pk))
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table tbody tr")
    assert rows.count() == 1
    assert re.search(r"clinician\s+Checklist signed", rows.first.inner_text())
    # By the clinic reference instead (issue 19): searched by POST, never in the URL.
    page.get_by_role("link", name="Audit trail").click()
    page.get_by_label("Find by clinic reference").fill("4001")
    page.get_by_role("button", name="Search").click()
    assert "4001" not in page.url
    page.get_by_label("Action").select_option(label="Checklist signed")
    page.get_by_role("button", name="Filter").click()
    assert page.locator("table tbody tr").count() == 1
