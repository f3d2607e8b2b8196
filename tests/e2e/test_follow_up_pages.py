"""The follow-up pages in the browser (issue 20): the worklist, starting a review from
it, the review's sections, the case timeline and the supervisor's dashboard, each with
axe-core reporting no violation."""

import datetime

from django.utils import timezone

from checklists.cases.drafts import DEFAULT_TEMPLATE_SLUG as INTAKE
from checklists.cases.drafts import start_response
from checklists.models import ChecklistResponse, PatientCase, TemplateVersion

from ..factories import fill, make_case, make_user, sign
from .conftest import log_in
from .helpers import default_answers
from .test_accessibility import _check


def test_worklist_review_timeline_and_dashboard_have_no_axe_violation(page, site, axe):
    url, clinician = site["url"], site["clinician"]
    make_user("supervisor", role="Supervisors", teams=[site["team"]])
    version = TemplateVersion.objects.published().get(template__slug=INTAKE)
    case = make_case(site["team"], clinician, reference="MRN-4001")
    intake = start_response(case=case, user=clinician)
    fill(intake, clinician, default_answers(version))
    sign(intake, clinician)
    PatientCase.objects.filter(pk=case.pk).update(
        follow_up_due=timezone.localdate() - datetime.timedelta(days=3)
    )

    found: dict[str, str] = {}
    log_in(page, url, "clinician")
    page.get_by_role("link", name="Follow-ups: 1 due").click()
    page.get_by_role("heading", name="Overdue").wait_for()
    _check(page, axe, found)
    page.get_by_role("button", name="Start follow-up review for case MRN-4001").click()
    page.get_by_role("heading", level=1).wait_for()
    review = ChecklistResponse.objects.get(version__template__slug="follow-up")
    assert review.carried_from_id == intake.pk
    for section in review.version.sections.all():
        _check(page, axe, found, f"{url}/responses/{review.pk}/sections/{section.key}/")
    _check(page, axe, found, f"{url}/cases/{case.pk}/")
    assert page.get_by_role("heading", name="Timeline").is_visible()

    page.context.clear_cookies()
    log_in(page, url, "supervisor")
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("heading", name="Checklists signed per week").wait_for()
    _check(page, axe, found)
    assert found == {}, "\n\n".join(f"{where}\n{what}" for where, what in found.items())
