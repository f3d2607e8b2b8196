"""A tablet at 768 px and a desktop at 200 % zoom: no horizontal scrolling; the main
navigation on one line at every width."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from checklists.cases.drafts import start_response
from checklists.models import PatientCase

from ..factories import make_case, make_user
from .conftest import log_in

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.mark.parametrize(
    "viewport,scale",
    [
        ({"width": 768, "height": 1024}, 2),  # tablet, portrait
        ({"width": 640, "height": 400}, 1),  # 1280 x 800 at 200 % zoom
    ],
    ids=["tablet-768", "zoom-200"],
)
def test_section_pages_fit_without_horizontal_scroll(browser, site, viewport, scale):
    clinician = site["clinician"]
    response = start_response(case=make_case(site["team"], clinician), user=clinician)
    context = browser.new_context(viewport=viewport, device_scale_factor=scale)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, site["url"], "clinician")
        for section in response.version.sections.all():
            page.goto(f"{site['url']}/responses/{response.pk}/sections/{section.key}/")
            assert page.evaluate(NO_SIDEWAYS_SCROLL), f"{section.key} scrolls sideways"
        page.goto(f"{site['url']}/responses/{response.pk}/review/")
        assert page.evaluate(NO_SIDEWAYS_SCROLL), "review scrolls sideways"
    finally:
        context.close()


def test_the_longest_navigation_holds_one_line_at_every_width(browser, site):
    """A superuser's navigation (eight links, a two-digit follow-ups count, and the
    account) is the longest there is: it wrapped onto two lines at 768 px. Now links sit
    side by side from 1400 px (1200 until issue 20 added the follow-ups and the dashboard)
    and open from "Menu" below; the bar is one line high (57 px; wrapped, it was 81) at
    each width."""
    chief = make_user("chief", role=None, teams=[site["team"]], is_staff=True, is_superuser=True)
    for n in range(12):
        make_case(site["team"], chief, reference=f"DUE-{n}")
    PatientCase.objects.update(follow_up_due=timezone.localdate())
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, site["url"], "chief")
        for width in (1440, 1400, 1200, 1024, 768, 600):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{site['url']}/cases/")
            height = page.locator("nav.navbar").bounding_box()["height"]
            assert height < 70, f"the navigation is {height} px high at {width} px"
            assert page.evaluate(NO_SIDEWAYS_SCROLL), f"sideways scroll at {width} px"
            audit = page.get_by_role("link", name="Audit trail")
            if width >= 1400:
                expect(audit).to_be_visible()
            else:
                expect(audit).to_be_hidden()
                page.get_by_role("button", name="Menu").click()
                expect(audit).to_be_visible()
    finally:
        context.close()
