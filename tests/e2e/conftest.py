"""Browser tests: Debian's Chromium driven by pytest-playwright against live_server.

Recipe from the team's tooling notes: never `playwright install` (its CDN is unreachable
here); launch /usr/bin/chromium with --no-sandbox because CI runs as root.
"""

import os
import shutil
import time
from base64 import b32decode
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import expect

from ..factories import PASSWORD, make_case, make_user

# Playwright's sync API runs an asyncio loop in the test thread; without this every test
# that uses `page` together with the ORM fails with SynchronousOnlyOperation.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()


def pytest_collection_modifyitems(config, items):
    """Without Chromium the browser tests are skipped, saying why, before any fixture
    tries to launch it."""
    if HAVE_CHROMIUM:
        return
    skip = pytest.mark.skip(
        reason=f"browser test skipped: no Chromium at {CHROMIUM} "
        "(apt-get install -y chromium, or set CHROMIUM_PATH)"
    )
    for item in items:
        if "/e2e/" in str(item.path).replace("\\", "/"):
            item.add_marker(skip)


class _PlainHttpWhileStarting:
    """The live server speaks plain HTTP (Django's test server has no TLS), so the one
    production setting that cannot hold there is off: the redirect to HTTPS. Everything
    else stays as production has it (Secure __Host- cookies, CSP, second factor):
    Chromium treats http://localhost as a secure context and keeps Secure cookies.

    Django's SecurityMiddleware reads the setting once, when the server thread builds its
    middleware, so the override lasts only while the server starts: tests that run after
    the browser tests in the same process see the production setting again."""

    def __init__(self):
        self.override = override_settings(SECURE_SSL_REDIRECT=False)
        self.override.enable()
        self.active = True

    def end(self):
        if self.active:
            self.override.disable()
            self.active = False


@pytest.fixture(scope="session")
def _plain_http():
    plain = _PlainHttpWhileStarting()
    yield plain
    plain.end()  # only if the server failed to start


@pytest.fixture(scope="session")
def live_server(_plain_http, live_server):
    _plain_http.end()
    return live_server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # The "Copy note" button writes to the clipboard; grant it so the test can read it back.
    # A desktop window (1440 px) by default: below 1400 px the navigation folds into
    # "Menu" (base.html); the layout and panel tests set their own sizes.
    return {
        **browser_context_args,
        "permissions": ["clipboard-read", "clipboard-write"],
        "viewport": {"width": 1440, "height": 900},
    }


@pytest.fixture(autouse=True)
def _fail_fast(page):
    # Pages answer in milliseconds, but CI machines run several suites at once: 15 s
    # leaves room for that without the 30 s default slowing down a failing run. The
    # assertions' own default (`expect`, 5 s) gets the same room: on a loaded machine a
    # focus moved by an autosave's reply came after 5 s.
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)


@pytest.fixture(autouse=True)
def _no_script_errors(page):
    """Every browser test also fails on a script error or a Content-Security-Policy
    refusal in the page: the CSP allows no inline script or style, and a page that quietly
    lost its JavaScript to it would still pass the other checks."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console at {page.url} {message.location}: {message.text}")
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    yield
    assert not problems, "\n".join(problems)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Lets the `steps` fixture see whether the test failed.
    report = (yield).get_result()
    setattr(item, f"report_{report.when}", report)


class Steps:
    """Screenshots of each step of a test, numbered, kept only when the test fails (in
    test-results/<test>/steps/), so a failure shows how the pages got there."""

    def __init__(self, page, folder: Path):
        self.page, self.folder, self.count = page, folder, 0

    def shot(self, name: str) -> None:
        self.count += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        slug = "".join(c if c.isalnum() else "-" for c in name.lower())
        self.page.screenshot(path=self.folder / f"{self.count:02d}-{slug}.png", full_page=True)


@pytest.fixture
def steps(page, request, output_path):
    recorder = Steps(page, Path(output_path) / "steps")
    yield recorder
    report = getattr(request.node, "report_call", None)
    if report is not None and report.passed:
        shutil.rmtree(recorder.folder, ignore_errors=True)


@pytest.fixture
def axe(page):
    """axe-core on the current page (bundled with axe-playwright-python: works offline)."""
    from axe_playwright_python.sync_playwright import Axe

    def run():
        return Axe().run(page).response["violations"]

    return run


@pytest.fixture
def site(live_server, transactional_db, settings, team, clinician):
    """The default content as `make run` loads it, and the shared team and clinician
    (tests/conftest.py: live_server makes their database transactional)."""
    # live_server serves /static/ itself, from the finders: it knows the plain file names,
    # not the hashed ones of the manifest storage, so CSS and JS would be 404s.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("load_default_content", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return {"url": live_server.url, "team": team, "clinician": clinician}


class Phone:
    """The authenticator app on a user's phone: the shared secret, and the codes it shows.

    A code is good for one 30-second step and the server refuses a code twice, so a code
    asked for right after another (logging in, then signing) is the next step's, which
    the server accepts within its one-step tolerance; a third in the same step waits.
    """

    def __init__(self, secret: str):
        self.key = b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
        self.last_step = -1

    def code(self) -> str:
        from django_otp.oath import totp

        now = int(time.time()) // 30
        if self.last_step > now:  # both this step's and the next one's codes are used up
            time.sleep(30 - time.time() % 30 + 0.1)
            now = int(time.time()) // 30
        step = max(now, self.last_step + 1)
        self.last_step = step
        return f"{totp(self.key, drift=step - now):06d}"


# The phone of each user who logged in during the current test (users are recreated by
# every test, since live_server's database is emptied after each).
PHONES: dict[str, Phone] = {}


@pytest.fixture(autouse=True)
def _forget_phones():
    PHONES.clear()
    yield
    PHONES.clear()


def log_in(page, url: str, username: str, password: str = PASSWORD, *, visit=None) -> Phone:
    """Log in as a person does: the password, then the second factor. A first login sets
    up the authenticator from the secret the page shows; later ones type its code.
    `visit(page)`, when given, is called on each second-factor page (for axe)."""
    visit = visit or (lambda page: None)
    page.goto(url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    if "/accounts/mfa/setup/" in page.url:
        visit(page)
        phone = PHONES[username] = Phone(page.locator("#totp-secret").inner_text())
        page.get_by_label("The six-digit code your app shows now").fill(phone.code())
        page.get_by_role("button", name="Confirm").click()
        page.get_by_role("heading", name="Your recovery codes").wait_for()
        visit(page)
        page.get_by_role("link", name="I have kept them: continue").click()
    elif "/accounts/mfa/verify/" in page.url:
        visit(page)
        phone = PHONES[username]
        page.get_by_label("Code from your authenticator app").fill(phone.code())
        page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert "/accounts/" not in page.url, f"still logging in at {page.url}"
    return PHONES.get(username)


__all__ = ["PHONES", "Phone", "log_in", "make_case", "make_user"]
