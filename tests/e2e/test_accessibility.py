"""axe-core finds no violation on any page a clinician or auditor sees."""

import re

from playwright.sync_api import expect

from checklists.cases.drafts import DEFAULT_TEMPLATE_SLUG as INTAKE
from checklists.cases.drafts import save_section, start_response
from checklists.models import TemplateVersion

from ..factories import fill, make_case, sign
from .conftest import log_in
from .helpers import default_answers


def _summary(violations) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + ", ".join(str(n["target"]) for n in v["nodes"][:5])
        for v in violations
    )


def _check(page, axe, found, path=None):
    if path:
        page.goto(path)
    violations = axe()
    if violations:
        found[path or page.url] = _summary(violations)


def test_no_axe_violation_on_any_page(page, site, axe, auditor):
    url, clinician = site["url"], site["clinician"]
    version = TemplateVersion.objects.published().get(template__slug=INTAKE)
    case = make_case(site["team"], clinician, reference="MRN-3001")
    signed = start_response(case=case, user=clinician)
    fill(signed, clinician, default_answers(version))
    sign(signed, clinician)
    draft = start_response(case=make_case(site["team"], clinician), user=clinician)
    # Both substances in the picture, so every section shows its questions about them.
    fill(
        draft,
        clinician,
        {"medication_interactions": {"substances_in_use": ["kratom", "melatonin"]}},
    )

    found: dict[str, str] = {}
    _check(page, axe, found, url + "/accounts/login/")
    # The second-factor pages: set-up and recovery codes at the first login, the code
    # page at the next.
    log_in(page, url, "clinician", visit=lambda page: _check(page, axe, found))
    page.context.clear_cookies()
    log_in(page, url, "clinician", visit=lambda page: _check(page, axe, found))
    for path in [
        "/accounts/mfa/",
        "/accounts/profile/",
        "/lots/",
        "/cases/",
        "/cases/new/",
        f"/cases/{case.pk}/",
        f"/responses/{draft.pk}/",
        *[f"/responses/{draft.pk}/sections/{s.key}/" for s in version.sections.all()],
        f"/responses/{draft.pk}/review/",
        f"/responses/{signed.pk}/",
        f"/responses/{signed.pk}/print/",
        f"/responses/{signed.pk}/amend/",
    ]:
        _check(page, axe, found, url + path)
    page.goto(url + "/cases/999999/")
    assert page.get_by_role("heading", level=1).inner_text() == "Page not found"
    _check(page, axe, found, url + "/cases/999999/")
    _check(page, axe, found, url + "/audit/")  # 403 for a clinician
    assert page.get_by_role("heading", level=1).inner_text() == "You cannot do that here"

    # The form-error state and the conflict page (two saves from one stale page).
    first = f"{url}/responses/{draft.pk}/sections/legal_verification/"
    page.goto(first)
    page.get_by_label("In which jurisdiction does the patient live?").fill("Atlantis")
    # Leaving the field autosaves first; the submit waits for it (static/js/autosave.js).
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").click()
    # The error summary takes focus, and links to the field in error.
    expect(page.locator("#error-summary")).to_be_focused()
    page.locator("#error-summary a").first.click()
    expect(page.locator("#id_jurisdiction")).to_be_focused()
    violations = axe()
    if violations:
        found["section with errors"] = _summary(violations)
    page.goto(first)
    page.evaluate("document.querySelector('[name=lock_version]').value = 0")
    save_section(
        response=draft,
        section=version.sections.get(key="legal_verification"),
        values={"local_restrictions": "yes"},
        lock_version=draft.lock_version,
        user=clinician,
    )
    page.locator("[name=local_restrictions][value=no]").check()
    # Wait for the conflict page itself: on a loaded machine the heading was read while
    # the section page was still showing.
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"^This checklist was saved from another page"))
    violations = axe()
    if violations:
        found["conflict page"] = _summary(violations)

    page.context.clear_cookies()
    log_in(page, url, "auditor")
    _check(page, axe, found, url + "/audit/")

    assert not found, "\n\n".join(f"{path}\n{text}" for path, text in found.items())
