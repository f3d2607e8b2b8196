"""The icon every page asks for, and demo mode's pages without DEBUG."""

import json

import pytest

from .test_security import manage

pytestmark = pytest.mark.django_db


def test_favicon_ico_leads_to_the_static_icon(client):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301
    assert answer["Location"].endswith(".svg") and "/static/" in answer["Location"]


def test_every_page_links_the_icon(client):
    page = client.get("/accounts/login/").content.decode()
    assert '<link rel="icon" href="/static/favicon.' in page


# Demo mode as `make run` starts it: DJANGO_DEMO=1, no DEBUG, no production variables.
DEMO_PAGES = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client
client = Client()
missing = client.get("/no-such-page/")
style = client.get("/static/css/app.css")
print(json.dumps({
    "debug": settings.DEBUG,
    "secret_is_generated": settings.SECRET_KEY == settings.DEMO_SECRET_KEY_FILE.read_text().strip(),
    "404": missing.status_code,
    "404_page": missing.content.decode(),
    "static": style.status_code,
}))
"""


def test_demo_mode_runs_without_debug_and_shows_the_sites_own_404():
    result = manage(
        env={"DJANGO_DEMO": "1", "DJANGO_SETTINGS_MODULE": "clinic.settings"}, code=DEMO_PAGES
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["debug"] is False and seen["secret_is_generated"] is True
    assert seen["404"] == 404 and "Page not found" in seen["404_page"]
    # Django's debug 404 lists every URL pattern of the project; the site's page does not.
    assert "URLconf" not in seen["404_page"] and "accounts/mfa/" not in seen["404_page"]
    assert seen["static"] == 200


def test_make_run_starts_demo_mode_without_debug():
    from .test_security import ROOT

    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    commands = [line for line in recipe.splitlines() if "manage.py" in line]
    assert commands and all("DJANGO_DEMO=1" in line for line in commands)
    assert all("DJANGO_DEBUG=0" in line for line in commands)
