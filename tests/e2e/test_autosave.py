"""Autosave in the browser: answers are kept as the clinician moves between fields."""

import time

from playwright.sync_api import expect

from checklists.cases.drafts import start_response
from checklists.models import Answer, ChecklistResponse

from ..factories import make_case
from .conftest import log_in

SECTION = "/sections/medication_interactions/"


def _medicines(response) -> list[str]:
    answer = Answer.objects.filter(response=response, item__key="current_medications").first()
    return [row["name"] for row in answer.value] if answer else []


def _start(site):
    clinician = site["clinician"]
    return start_response(case=make_case(site["team"], clinician), user=clinician)


def test_answers_are_saved_on_change_and_flags_appear_live(page, site, steps):
    response = _start(site)
    log_in(page, site["url"], "clinician")
    page.goto(f"{site['url']}/responses/{response.pk}{SECTION}")
    status = page.locator("#autosave-status")
    matches, flags = page.locator("#medication-matches"), page.locator("#live-flags")

    page.get_by_label("Kratom (any form)").check()
    status.get_by_text("Saved at").wait_for()
    page.get_by_label("Melatonin", exact=True).check()
    page.get_by_label("Medicine as the patient names it, row 1", exact=True).fill("OxyContin")
    page.get_by_label("Dose, row 1", exact=True).focus()  # leaving the field saves
    matches.get_by_text("OxyContin").wait_for()
    expect(flags).to_contain_text("Major")  # said in words, not only by colour
    steps.shot("first medicine matched")

    # More medicines than the spare rows: "Add a row" (JavaScript) gives another at once,
    # and each new row is matched and screened as soon as it is left.
    for row, name in enumerate(["Luvox", "sertraline", "Xanax"], start=2):
        if not page.get_by_label(
            f"Medicine as the patient names it, row {row}", exact=True
        ).count():
            page.get_by_role("button", name="Add a row").first.click()
        page.get_by_label(f"Medicine as the patient names it, row {row}", exact=True).fill(name)
        page.get_by_label(f"Medicine as the patient names it, row {row}", exact=True).press("Tab")
        matches.get_by_text(name).wait_for()
    page.get_by_role("button", name="Add a row").first.click()
    expect(page.get_by_label("Medicine as the patient names it, row 5", exact=True)).to_be_focused()
    page.keyboard.type("melatonin gummies")
    page.keyboard.press("Tab")
    matches.get_by_text("melatonin gummies").wait_for()
    expect(flags).to_contain_text("fluvoxamine", ignore_case=True)
    steps.shot("five medicines, live cautions")
    assert _medicines(response) == [
        "OxyContin", "Luvox", "sertraline", "Xanax", "melatonin gummies"
    ]  # fmt: skip

    # The medicine list answered the opioid question on the page (OxyContin), and that
    # answer was autosaved in turn (static/js/medicine-answers.js).
    expect(page.locator('[name="opioid_use"][value="yes"]')).to_be_checked()
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    status.get_by_text("Saved at").wait_for()
    # A later save is not stale: the lock version followed every autosave.
    response.refresh_from_db()
    expect(page.locator("[name=lock_version]")).to_have_value(str(response.lock_version))
    page.locator('[name="alcohol_use"][value="no"]').check()
    expect(page.locator("[name=lock_version]")).to_have_value(str(response.lock_version + 1))
    assert "Not saved" not in status.inner_text()
    keys = set(Answer.objects.filter(response=response).values_list("item__key", flat=True))
    assert {"substances_in_use", "current_medications", "opioid_use"} <= keys


def test_closing_the_tab_loses_nothing(page, site):
    """Even typing not yet saved by leaving its field: the hidden page sends it."""
    response = _start(site)
    log_in(page, site["url"], "clinician")
    page.goto(f"{site['url']}/responses/{response.pk}{SECTION}")
    page.get_by_label("Medicine as the patient names it, row 1", exact=True).fill("OxyContin")
    page.get_by_label(
        "Medicine as the patient names it, row 1", exact=True
    ).focus()  # still in the field: no change event yet
    assert _medicines(response) == []
    page.close(run_before_unload=True)  # as a tab closes: pagehide, then gone
    for _ in range(100):  # the keepalive request outlives the page; wait for it to land
        if _medicines(response):
            break
        time.sleep(0.1)
    assert _medicines(response) == ["OxyContin"]


def test_without_javascript_the_submit_still_saves(browser, site):
    response = _start(site)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, site["url"], "clinician")
        page.goto(f"{site['url']}/responses/{response.pk}{SECTION}")
        assert page.get_by_role("button", name="Add a row").count() == 0
        expect(page.get_by_text("Save draft and three more appear")).to_be_visible()
        page.get_by_label("Medicine as the patient names it, row 1", exact=True).fill("OxyContin")
        page.get_by_label("Kratom (any form)").check()
        page.get_by_role("button", name="Save draft").click()
        page.wait_for_load_state()
        assert _medicines(response) == ["OxyContin"]
        expect(page.locator("#medication-matches")).to_contain_text("OxyContin")
        assert (
            page.get_by_label("Medicine as the patient names it, row 4", exact=True).count() == 1
        )  # three more appeared
        assert ChecklistResponse.objects.get(pk=response.pk).lock_version == 1
    finally:
        context.close()


def test_the_questions_do_not_move_up_when_a_prefilled_answer_is_saved(page, site):
    """The medicine list's notes sit above the questions: once the answer they pre-fill is
    saved, their text gets shorter, and the questions below must stay where the clinician's
    pointer is (a click meant for one question would land on the next)."""
    response = _start(site)
    log_in(page, site["url"], "clinician")
    page.goto(f"{site['url']}/responses/{response.pk}{SECTION}")
    page.get_by_label("Kratom (any form)").check()
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    medicine = page.get_by_label("Medicine as the patient names it, row 1", exact=True)
    medicine.fill("tramadol")
    medicine.press("Tab")
    page.locator("#reconciliation").get_by_text("pre-filled below").first.wait_for()
    top = page.locator("#item-alcohol_use").bounding_box()["y"]
    # The pre-filled "yes" is saved in turn, and the note says it is answered.
    expect(page.locator('[name="opioid_use"][value="yes"]')).to_be_checked()
    expect(page.locator("#reconciliation")).not_to_contain_text("pre-filled below")
    assert page.locator("#item-alcohol_use").bounding_box()["y"] == top
