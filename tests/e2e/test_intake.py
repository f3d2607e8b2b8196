"""A clinician's whole intake in the browser, from log-in to the PDF."""

import re

from django.utils import timezone

from checklists.models import AuditEvent, ChecklistResponse, LegalStatus

from ..factories import PASSWORD
from .conftest import log_in
from .helpers import answer_section, reason_groups


def test_clinician_completes_an_intake_with_a_major_flag(page, site, steps):
    url = site["url"]
    # The Texas and federal rows as checked today, whatever day the suite runs: a row older
    # than LEGAL_STALE_DAYS would add the legal problem to the acknowledgements counted below.
    LegalStatus.objects.filter(jurisdiction__code__in=["US", "US-TX"]).update(
        verified_on=timezone.localdate()
    )
    phone = log_in(page, url, "clinician")
    steps.shot("logged in")
    page.get_by_role("link", name="New case").first.click()
    page.get_by_label("Clinic reference").fill("MRN-2001")
    page.get_by_role("button", name=re.compile("Create", re.I)).click()
    steps.shot("case created")
    page.get_by_role("button", name=re.compile("Start", re.I)).click()

    for number in range(1, 6):
        page.wait_for_url(re.compile(r"/sections/"))
        assert (
            page.get_by_role("heading", level=1).inner_text().startswith(f"Section {number} of 5")
        )
        answer_section(page)
        steps.shot(f"section {number} answered")
        # The submit waits for any autosave still in flight (static/js/autosave.js).
        with page.expect_navigation():
            page.get_by_role("button", name="Save and continue").click()

    page.wait_for_url(re.compile(r"/review/$"))
    flags = page.locator("section[aria-labelledby=flags-title]")
    assert re.search(r"\bMajor\b", flags.inner_text())  # said in words, not only in colour
    titles = flags.locator("li.flag > p > strong").all_inner_texts()
    assert titles and not any(t.rstrip().endswith("?") for t in titles)  # statements
    # One acknowledgement per problem (issue 16): these answers (every yes/no "No" but the
    # opioid beside OxyContin, every first option) ask for 3 reasons, one choice each, where
    # they asked for 7 before (19 flags then, 5 problems now); Texas's law is on a current
    # row, so the legal problem is information, not a fourth reason to give.
    reasons = reason_groups(page)
    assert len(reasons) == 3
    for name in reasons:
        page.locator(f'input[name="{name}"]').first.check()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(phone.code())
    page.get_by_label(re.compile("I reviewed every answer")).check()
    steps.shot("review filled in")
    page.get_by_role("button", name="Sign and lock").click()
    page.wait_for_url(re.compile(r"/responses/\d+/$"))
    assert "Checklist signed" in page.locator("main").inner_text()
    steps.shot("signed")

    response = ChecklistResponse.objects.get()
    assert response.status == "signed"
    assert response.medications.filter(matched_substance__isnull=False).exists()

    page.get_by_role("button", name="Copy note").click()
    page.get_by_text("Note copied").wait_for()
    note = page.evaluate("navigator.clipboard.readText()")
    assert "MRN-2001" in note and "OxyContin" in note

    with page.expect_download() as download:
        page.evaluate(
            "href => { const a = document.createElement('a'); a.href = href;"
            " a.download = 'note.pdf'; document.body.appendChild(a); a.click(); }",
            f"/responses/{response.pk}/note.pdf",
        )
    path = download.value.path()
    assert path.read_bytes()[:5] == b"%PDF-"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.CHECKLIST_SIGNED).exists()
