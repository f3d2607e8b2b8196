"""Issue 21 done-when: an editor adds an option, a show-when and a caution to an item without
typing JSON, previews the section, submits with a summary; a second editor reads the diff,
comments and approves; the next checklist shows the change and raises the caution."""

from playwright.sync_api import expect

from checklists.cases.drafts import DEFAULT_TEMPLATE_SLUG as INTAKE
from checklists.cases.drafts import save_section, start_response
from checklists.models import AuditEvent, TemplateVersion

from ..factories import make_case, make_editor
from .conftest import log_in

ITEM = "use_after_advice"
TITLE = "Patient has not decided whether to use after advice"


def no_violations(page, where: str) -> None:
    """axe-core on the page, without fetching its style sheets again (preload): on the admin's
    pages that fetch re-applies them inline, which the CSP refuses, and resolves the
    admin's relative @import against the page's address."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page, options={"preload": False}).response["violations"]
    assert not violations, (where, [(v["id"], v["nodes"][0]["target"]) for v in violations])


def test_an_editor_changes_an_item_and_a_second_editor_approves_it(page, site, steps):
    published = TemplateVersion.objects.published().get(template__slug=INTAKE)
    make_editor("editor")
    make_editor("reviewer")
    url = site["url"]

    # The editor starts a draft and opens the item.
    log_in(page, url, "editor")
    page.goto(f"{url}/admin/checklists/templateversion/{published.pk}/change/")
    page.get_by_role("button", name="New draft from this version").click()
    page.get_by_role("heading", name="Workflow: Draft").wait_for()
    draft = TemplateVersion.objects.get(status=TemplateVersion.Status.DRAFT)
    item = draft.items.get(key=ITEM)
    page.goto(f"{url}/admin/checklists/item/{item.pk}/change/")
    assert page.locator("textarea[name=options], textarea[name=show_when]").count() == 0
    no_violations(page, "item page")

    # An option in the first empty row, and "show when substances used is kratom".
    row = len(item.options)
    page.locator(f"#id_options_rows-{row}-code").fill("undecided")
    page.locator(f"#id_options_rows-{row}-label").fill("Has not decided yet")
    page.get_by_label("Show this question when").select_option("substances_in_use")
    page.locator("#id_show_op").select_option("is")
    # Only that question's answers are offered (another's are disabled by the script).
    other = page.locator('#id_show_values option[value="age_band:under_18"]')
    assert other.evaluate("option => option.disabled")
    page.locator("#id_show_values").select_option("substances_in_use:kratom")
    expect(page.locator("#id_prompt + .checklists-char-count")).to_have_text(
        f"{len(item.prompt)} of 300 characters"
    )
    page.get_by_role("button", name="Save and continue editing").click()
    page.get_by_text("was changed successfully").wait_for()
    steps.shot("option and show-when saved")

    # The caution, on the new option (offered once saved).
    page.get_by_label("Has not decided yet").check()
    page.get_by_label("Severity").select_option("moderate")
    page.get_by_label("Problem (from the catalogue)").select_option("care-plan")
    page.get_by_label("Caution title").fill(TITLE)
    page.locator("#id_caution_advice").fill(
        "Agree a follow-up call within a week to revisit the advice."
    )
    page.get_by_role("button", name="Save and continue editing").click()
    page.get_by_text("was changed successfully").wait_for()
    item.refresh_from_db()
    assert item.options[-1] == {"code": "undecided", "label": "Has not decided yet"}
    assert item.show_when == {"item": "substances_in_use", "op": "includes", "value": "kratom"}
    assert item.caution["when"] == ["undecided"] and item.caution["problem"] == "care-plan"

    # Preview of the section: the new answer raises the caution.
    page.get_by_role("link", name="Preview its section").click()
    page.get_by_role("heading", name="Plan and monitoring", exact=False).first.wait_for()
    no_violations(page, "preview")
    page.locator(f"#item-{ITEM}").get_by_label("Has not decided yet").check()
    page.get_by_role("button", name="Show the cautions for these answers").click()
    expect(page.locator(".cautions-panel")).to_contain_text(TITLE)
    steps.shot("preview raises the caution")

    # Submit with a summary.
    page.goto(f"{url}/admin/checklists/templateversion/{draft.pk}/change/")
    page.locator("#id_summary").fill(
        "New answer 'Has not decided yet' for use after advice, with a follow-up caution."
    )
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_text(f"v{draft.number}: In review").wait_for()
    no_violations(page, "version in review")

    # The second editor finds it on their landing page, reads the diff, comments, approves.
    page.context.clear_cookies()
    log_in(page, url, "reviewer")
    page.goto(url + "/")
    page.get_by_role("link", name=f"{draft.template.title} v{draft.number}").click()
    page.get_by_role("heading", name="What changed and why").wait_for()
    expect(page.locator(".version-diff")).to_contain_text("Has not decided yet")
    expect(page.get_by_text("Has not decided yet' for use after advice")).to_be_visible()
    no_violations(page, "approval page")
    steps.shot("approval page")
    page.get_by_role("button", name="Confirm: approve and publish").click()
    # The browser refuses the form until the tick is given (and the server would too).
    assert TemplateVersion.objects.get(pk=draft.pk).status == TemplateVersion.Status.IN_REVIEW
    page.get_by_label("I reviewed each change listed above").check()
    page.get_by_label("Comment (optional)").fill("Checked against the care-plan guidance.")
    page.get_by_role("button", name="Confirm: approve and publish").click()
    page.get_by_text(f"v{draft.number}: Published").wait_for()

    draft.refresh_from_db()
    assert (
        draft.status == TemplateVersion.Status.PUBLISHED and draft.approver.username == "reviewer"
    )
    event = AuditEvent.objects.get(
        action=AuditEvent.Action.CONTENT_PUBLISHED, object_id=str(draft.pk)
    )
    assert event.detail["comment"] == "Checked against the care-plan guidance."

    # The next checklist shows the new answer and raises the caution.
    clinician = site["clinician"]
    response = start_response(case=make_case(site["team"], clinician), user=clinician)
    assert response.version_id == draft.pk
    for key, values in (
        ("medication_interactions", {"substances_in_use": ["kratom"]}),
        ("plan_and_monitoring", {ITEM: "undecided"}),
    ):
        response.refresh_from_db(fields=["lock_version"])
        save_section(
            response=response,
            section=draft.sections.get(key=key),
            values=values,
            lock_version=response.lock_version,
            user=clinician,
        )
    page.context.clear_cookies()
    log_in(page, url, "clinician")
    page.goto(f"{url}/responses/{response.pk}/sections/plan_and_monitoring/")
    expect(page.locator(f"#item-{ITEM}")).to_contain_text("Has not decided yet")
    expect(page.locator("#live-flags")).to_contain_text(TITLE)
