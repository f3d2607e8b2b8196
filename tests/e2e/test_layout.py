"""A tablet at 768 px and a desktop at 200 % zoom: no horizontal scrolling."""

import pytest

from checklists.cases.drafts import start_response

from ..factories import make_case
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
