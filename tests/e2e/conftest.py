"""Browser tests: Debian's Chromium driven by pytest-playwright against live_server.

Recipe from the team's tooling notes: never `playwright install` (its CDN is unreachable
here); launch /usr/bin/chromium with --no-sandbox because CI runs as root.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from ..factories import PASSWORD, make_case, make_team, make_user

# Playwright's sync API runs an asyncio loop in the test thread; without this every test
# that uses `page` together with the ORM fails with SynchronousOnlyOperation.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()


@pytest.fixture(scope="session", autouse=True)
def _needs_chromium():
    if not HAVE_CHROMIUM:
        pytest.skip(
            f"browser test skipped: no Chromium at {CHROMIUM} "
            "(apt-get install -y chromium, or set CHROMIUM_PATH)"
        )


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
    return {**browser_context_args, "permissions": ["clipboard-read", "clipboard-write"]}


@pytest.fixture(autouse=True)
def _fail_fast(page):
    # Pages answer in milliseconds, but CI machines run several suites at once: 15 s
    # leaves room for that without the 30 s default slowing down a failing run.
    page.set_default_timeout(15_000)


@pytest.fixture
def axe(page):
    """axe-core on the current page (bundled with axe-playwright-python: works offline)."""
    from axe_playwright_python.sync_playwright import Axe

    def run():
        return Axe().run(page).response["violations"]

    return run


@pytest.fixture
def site(live_server, transactional_db, settings):
    """The default content as `make run` loads it, one team and a clinician."""
    # live_server serves /static/ itself, from the finders: it knows the plain file names,
    # not the hashed ones of the manifest storage, so CSS and JS would be 404s.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("load_default_content", stdout=open(os.devnull, "w"))  # noqa: SIM115
    team = make_team("North Clinic")
    clinician = make_user("clinician", teams=[team])
    return {"url": live_server.url, "team": team, "clinician": clinician}


def log_in(page, url: str, username: str, password: str = PASSWORD):
    page.goto(url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


__all__ = ["log_in", "make_case", "make_user"]
