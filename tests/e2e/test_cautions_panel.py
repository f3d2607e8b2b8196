"""Cautions in view (issue 18, point 4): beside the questions on a wide screen, a bar with
the count per severity on a narrow one, and a new caution said to screen readers."""

import re

from playwright.sync_api import expect

from checklists.cases.drafts import start_response

from ..factories import make_case
from .conftest import log_in

SECTION = "/sections/medication_interactions/"
WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 390, "height": 844}


def _open_section(page, site, viewport) -> None:
    clinician = site["clinician"]
    response = start_response(case=make_case(site["team"], clinician), user=clinician)
    page.set_viewport_size(viewport)
    log_in(page, site["url"], "clinician")
    page.goto(f"{site['url']}/responses/{response.pk}{SECTION}")


def _raise_a_caution(page) -> None:
    """Kratom with an opioid on the medicine list: a major caution, saved by autosave."""
    page.get_by_label("Kratom (any form)").check()
    page.locator("#autosave-status").get_by_text("Saved at").wait_for()
    page.get_by_label("Medicine as the patient names it, row 1", exact=True).fill("OxyContin")
    page.get_by_label("Dose, row 1", exact=True).focus()  # leaving the field saves
    expect(page.locator("#live-flags")).to_contain_text("Major")


def test_a_new_caution_is_announced_by_its_title(page, site):
    _open_section(page, site, WIDE)
    news = page.locator("#caution-news")
    expect(news).to_have_attribute("aria-live", "polite")
    expect(news).to_be_empty()

    _raise_a_caution(page)

    titles = page.locator("#live-flags [data-caution]").evaluate_all(
        "items => items.map(i => i.dataset.cautionTitle)"
    )
    assert titles
    expect(news).to_have_text(re.compile(r"^New cautions?: "))
    for title in titles:  # said once, by name, not the whole panel read again
        expect(news).to_contain_text(title)
    assert "Cautions raised" not in news.inner_text()


def test_on_a_wide_screen_the_panel_stays_beside_the_questions(page, site):
    _open_section(page, site, WIDE)
    _raise_a_caution(page)
    assert page.evaluate("document.documentElement.scrollHeight") > 3 * WIDE["height"]

    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    panel = page.locator("[data-cautions-panel]")
    expect(panel.locator("#live-flags")).to_be_visible()
    expect(panel.locator("#live-flags")).to_contain_text("Major")
    box = panel.bounding_box()
    form = page.locator("form.section-form").bounding_box()
    assert 0 <= box["y"] < WIDE["height"] / 2, "the panel scrolled out of view"
    assert box["x"] >= form["x"] + form["width"], "the panel is not beside the questions"
    assert box["y"] + box["height"] <= WIDE["height"], "a long panel must scroll, not overflow"


def test_on_a_narrow_screen_a_bar_counts_by_severity_and_opens_the_list(page, site):
    _open_section(page, site, NARROW)
    _raise_a_caution(page)
    page.reload()

    bar = page.locator("summary.cautions-summary")
    expect(bar).to_have_text(re.compile(r"^Cautions: 1 major$"))
    assert bar.bounding_box()["y"] < page.locator("form.section-form").bounding_box()["y"]
    expect(page.locator("#live-flags")).to_be_hidden()

    bar.click()
    expect(page.locator("#live-flags")).to_be_visible()
    expect(page.locator("#live-flags")).to_contain_text("Oxycodone")


def test_the_section_page_with_its_panel_has_no_axe_violation(page, site, axe):
    _open_section(page, site, WIDE)
    _raise_a_caution(page)
    page.reload()
    assert axe() == []
    page.set_viewport_size(NARROW)
    page.locator("summary.cautions-summary").click()
    assert axe() == []
