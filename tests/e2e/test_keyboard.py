"""The whole intake with the keyboard alone, counting keystrokes and page loads.

Keys used: Tab, Shift+Tab, Space, Enter, typing, and ArrowDown inside a radio group (the
standard way to move a radio selection from "Yes" to "No"). The test reads the page (what
has focus) to decide which key to press, but never clicks or fills.
"""

import re

from checklists.models import ChecklistResponse

from ..factories import PASSWORD
from .conftest import Phone
from .helpers import reason_groups

TYPED = {
    "username": "clinician",
    "password": PASSWORD,
    "reference": "MRN-5001",
    "current_medications-0-name": "OxyContin",
    "jurisdiction": "US-TX",
    "who_to_call": "Clinic nurse line",
    "follow_up_date": "12012026",  # Chrome's date field: month, day, year
}

_FOCUS_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const group = el.name ? [...document.querySelectorAll(`[name="${el.name}"]`)] : [];
  return {tag: el.tagName.toLowerCase(), type: el.type || "", name: el.name || "",
          value: el.value || "", checked: !!el.checked, text: (el.innerText || "").trim(),
          groupAnswered: group.some(i => i.checked), first: group[0] === el};
}
"""


class Keyboard:
    def __init__(self, page):
        self.page, self.keys, self.loads = page, 0, 0
        page.on("load", lambda _page: self._loaded())

    def _loaded(self):
        self.loads += 1

    def press(self, key: str):
        self.keys += 1
        self.page.keyboard.press(key)

    def type(self, text: str):
        self.keys += len(text)
        self.page.keyboard.type(text)

    def focus(self):
        return self.page.evaluate(_FOCUS_JS)

    def tab_to(self, matches, limit: int = 400):
        for _ in range(limit):
            self.press("Tab")
            focus = self.focus()
            if focus and matches(focus):
                return focus
        raise AssertionError("never reached the element")

    def submit_via(self, label: str):
        self.tab_to(lambda f: f["tag"] in ("button", "a") and f["text"].startswith(label))
        with self.page.expect_navigation():
            self.press("Enter")

    def answer_section(self):
        """Tab through the form answering what is open, then Save and continue."""
        done = set()
        for _ in range(400):
            self.press("Tab")
            f = self.focus()
            if f is None:
                continue
            if f["tag"] == "button" and f["text"] == "Save and continue":
                with self.page.expect_navigation():
                    self.press("Enter")
                return
            if f["type"] == "radio" and not f["groupAnswered"]:
                # "No", but "Yes" to the opioid question beside OxyContin: "No" there would
                # contradict the medicine list and block signing (issue 16).
                if f["first"] and f["value"] == "yes" and f["name"] != "opioid_use":
                    self.press("ArrowDown")  # "No"
                else:
                    self.press("Space")
            elif f["type"] == "checkbox" and not f["groupAnswered"] and f["first"]:
                if not f["name"].endswith("-lot"):
                    self.press("Space")
            elif f["name"] in TYPED and not f["value"] and f["name"] not in done:
                done.add(f["name"])
                self.type(TYPED[f["name"]])
        raise AssertionError("no Save and continue button reached")


def test_intake_with_the_keyboard_alone(page, site):
    kb = Keyboard(page)
    page.goto(site["url"] + "/accounts/login/")
    kb.tab_to(lambda f: f["name"] == "username")
    kb.type(TYPED["username"])
    kb.press("Tab")
    kb.type(TYPED["password"])
    with page.expect_navigation():
        kb.press("Enter")
    # First login: set up the authenticator. The phone reads the key off the page (the
    # QR code's twin); the clinician types the six digits it then shows.
    assert "/accounts/mfa/setup/" in page.url
    phone = Phone(page.locator("#totp-secret").inner_text())
    kb.tab_to(lambda f: f["name"] == "otp_token")
    kb.type(phone.code())
    with page.expect_navigation():
        kb.press("Enter")
    kb.submit_via("I have kept them: continue")
    login_keys, login_loads = kb.keys, kb.loads

    kb.submit_via("New case")
    kb.tab_to(lambda f: f["name"] == "reference")
    kb.type(TYPED["reference"])
    with page.expect_navigation():
        kb.press("Enter")
    setup_keys, setup_loads = kb.keys, kb.loads
    kb.submit_via("Start the kratom")

    for number in range(1, 6):
        assert (
            page.get_by_role("heading", level=1).inner_text().startswith(f"Section {number} of 5")
        )
        kb.answer_section()
    assert re.search(r"/review/$", page.url)

    # Acknowledge each serious caution: Space on a group's first reason, "Discussed;
    # advised the patient against it" (Tab enters a radio group at its first option).
    for _ in reason_groups(page):
        kb.tab_to(lambda f: f["name"].endswith("_reason") and not f["groupAnswered"])
        kb.press("Space")
    kb.tab_to(lambda f: f["name"] == "password")
    kb.type(PASSWORD)
    kb.tab_to(lambda f: f["name"] == "otp_token")
    kb.type(phone.code())
    kb.tab_to(lambda f: f["name"] == "attest")
    kb.press("Space")
    kb.submit_via("Sign and lock")
    assert "Checklist signed" in page.locator("main").inner_text()
    assert ChecklistResponse.objects.get().status == "signed"

    checklist_loads = kb.loads - setup_loads
    print(
        f"\nKeyboard-only intake: {kb.keys} keystrokes and {kb.loads} page loads in all, "
        f"of which logging in with the authenticator set up {login_keys} keystrokes and "
        f"{login_loads} page loads; the checklist itself (from Start to signed) "
        f"{kb.keys - setup_keys} keystrokes, {checklist_loads} page loads."
    )
    assert checklist_loads <= 7
