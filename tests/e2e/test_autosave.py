"""Autosave in the browser: answers are kept as the clinician moves between fields."""

from playwright.sync_api import expect

from checklists import services
from checklists.models import Answer

from ..factories import make_case
from .conftest import log_in


def test_answers_are_saved_on_change_and_flags_appear_live(page, site):
    clinician = site["clinician"]
    response = services.start_response(case=make_case(site["team"], clinician), user=clinician)
    url = f"{site['url']}/responses/{response.pk}/sections/medication_interactions/"
    log_in(page, site["url"], "clinician")
    page.goto(url)
    status = page.locator("#autosave-status")

    page.get_by_label("Kratom (any form)").check()
    status.get_by_text("Saved at").wait_for()
    page.locator('[name="current_medications-0-name"]').fill("OxyContin")
    page.locator('[name="current_medications-0-dose"]').focus()  # leaving the field saves
    page.locator("#medication-matches").get_by_text("OxyContin").wait_for()
    page.locator("#live-flags").get_by_text("Major", exact=False).first.wait_for()
    # A third save after two autosaves is not stale: the lock version followed along.
    page.locator('[name="opioid_use"][value="yes"]').check()
    # (expect, not wait_for_function: the CSP forbids the eval that one needs)
    expect(page.locator("[name=lock_version]")).to_have_value("3")
    assert "Not saved" not in status.inner_text()

    page.close()  # closing the tab loses nothing
    keys = set(Answer.objects.filter(response=response).values_list("item__key", flat=True))
    assert {"substances_in_use", "current_medications", "opioid_use"} <= keys
