"""What a clinician does on each page, shared by the browser tests."""

from __future__ import annotations

# Free-text and date answers per item; every unanswered yes/no/unknown group gets "No" and
# every unanswered choice group its first option (the server decides what is shown).
TEXT_ANSWERS = {
    "current_medications-0-name": "OxyContin",
    "current_medications-0-dose": "10 mg",
    "current_medications-0-frequency": "twice daily",
    "jurisdiction": "US-TX",
    "who_to_call": "Clinic nurse line 555-0100",
    "follow_up_date": "2026-12-01",
}

# The radios/checkboxes of visible groups that still have no answer: one id per group.
_UNANSWERED_JS = """
() => {
  const form = document.querySelector("form.section-form");
  const names = new Set();
  form.querySelectorAll("input[type=radio], input[type=checkbox]").forEach(i => {
    if (!i.disabled && i.offsetParent !== null && !i.name.endsWith("-lot")) names.add(i.name);
  });
  const picks = [];
  for (const name of names) {
    const inputs = [...form.querySelectorAll(`[name="${name}"]`)];
    if (inputs.some(i => i.checked)) continue;
    // The medicine list has an opioid (OxyContin): "No" there would contradict it.
    const wanted = name === "opioid_use" ? "yes" : "no";
    const pick = inputs.find(i => i.value === wanted) || inputs[0];
    picks.push(pick.id);
  }
  return picks;
}
"""


def answer_section(page) -> None:
    """Answer what is still open on the current section page, with the mouse."""
    for name, value in TEXT_ANSWERS.items():
        field = page.locator(f'form.section-form [name="{name}"]')
        if field.count() and field.is_visible() and not field.input_value():
            field.fill(value)
    for _ in range(3):  # answers can reveal follow-up questions
        picks = page.evaluate(_UNANSWERED_JS)
        if not picks:
            break
        for pick in picks:
            page.locator(f"#{pick}").check()


def section_keys(page) -> list[str]:
    return page.evaluate(_UNANSWERED_JS)


def default_answers(version) -> dict[str, dict]:
    """A complete set of answers to the default checklist, as save_section takes them."""
    special = {
        "current_medications": [{"name": "OxyContin", "dose": "10 mg", "frequency": "BID"}],
        "jurisdiction": "US-TX",
        "who_to_call": "Clinic nurse line",
        "kratom_legal_check_source": "Texas Health and Safety Code ch. 444",
        "melatonin_legal_check_source": "FDA dietary supplement rules",
        "substances_in_use": ["kratom", "melatonin"],
        # OxyContin is in the list: "No" would be a contradiction that blocks signing.
        "opioid_use": "yes",
    }
    answers: dict[str, dict] = {}
    for section in version.sections.order_by("position"):
        values = answers.setdefault(section.key, {})
        for item in section.items.order_by("position"):
            codes = [o["code"] for o in item.choices]
            if item.key in special:
                values[item.key] = special[item.key]
            elif item.kind == "yes_no_unknown":
                values[item.key] = "no"
            elif item.kind == "single_choice":
                values[item.key] = codes[0]
            elif item.kind == "multi_choice":
                values[item.key] = codes[:1]
            elif item.kind == "date":
                values[item.key] = "2026-12-01"
            elif item.kind in ("short_text", "long_text"):
                values[item.key] = "Noted."
    return answers


def reason_groups(page) -> list[str]:
    """The review's acknowledgement reasons: one radio group (its name) per serious problem."""
    return page.evaluate(
        "() => [...new Set([...document.querySelectorAll(\"input[type=radio][name$='_reason']\")]"
        ".map(i => i.name))]"
    )
