"""The icon every page asks for, demo mode's pages without DEBUG, and how static files are
served: hashed names, a year's cache and a compressed copy for browsers that take one."""

import json
import re

import pytest

from .test_security import ROOT, manage

pytestmark = pytest.mark.django_db


def test_favicon_ico_leads_to_the_static_icon(client):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301
    assert answer["Location"].endswith(".svg") and "/static/" in answer["Location"]


def test_the_icon_is_served(client):
    answer = client.get("/favicon.ico", follow=True)
    assert answer.status_code == 200 and answer["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(answer.streaming_content)


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
login = client.get("/accounts/login/").content.decode()
bootstrap = login.split('<link rel="stylesheet" href="', 1)[1].split('"', 1)[0]
served = {}
for encodings in ("br, gzip", "gzip", ""):
    answer = client.get(bootstrap, HTTP_ACCEPT_ENCODING=encodings)
    served[encodings] = {
        "status": answer.status_code,
        "encoding": answer.get("Content-Encoding", ""),
        "cache": answer.get("Cache-Control", ""),
        "bytes": len(b"".join(answer.streaming_content)),
    }
print(json.dumps({
    "debug": settings.DEBUG,
    "secret_is_generated": settings.SECRET_KEY == settings.DEMO_SECRET_KEY_FILE.read_text().strip(),
    "404": missing.status_code,
    "404_page": missing.content.decode(),
    "static": style.status_code,
    "bootstrap": bootstrap,
    "served": served,
}))
"""


def demo_pages() -> dict:
    result = manage(
        env={"DJANGO_DEMO": "1", "DJANGO_SETTINGS_MODULE": "clinic.settings"}, code=DEMO_PAGES
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_demo_mode_runs_without_debug_and_shows_the_sites_own_404():
    seen = demo_pages()
    assert seen["debug"] is False and seen["secret_is_generated"] is True
    assert seen["404"] == 404 and "Page not found" in seen["404_page"]
    # Django's debug 404 lists every URL pattern of the project; the site's page does not.
    assert "URLconf" not in seen["404_page"] and "accounts/mfa/" not in seen["404_page"]
    assert seen["static"] == 200


def test_demo_mode_serves_static_files_compressed_and_cached_for_good():
    """As `make serve`: Bootstrap's CSS, which blocks the first paint, travels as Brotli or
    gzip to a browser that accepts it, whole to one that does not (issue 18, Lighthouse)."""
    seen = demo_pages()
    # A hashed name (the manifest): a changed file is a new address, so a far-future cache is safe.
    hashed = r"/static/vendor/bootstrap/bootstrap\.min\.[0-9a-f]{12}\.css"
    assert re.fullmatch(hashed, seen["bootstrap"])
    whole = (ROOT / "static/vendor/bootstrap/bootstrap.min.css").stat().st_size
    served = seen["served"]
    assert served[""] == {**served[""], "status": 200, "encoding": "", "bytes": whole}
    assert served["gzip"]["encoding"] == "gzip" and served["gzip"]["bytes"] < whole / 5
    assert served["br, gzip"]["encoding"] == "br" and served["br, gzip"]["bytes"] < whole / 5
    for answer in served.values():
        assert "max-age=315360000" in answer["cache"] and "immutable" in answer["cache"]


def test_make_run_starts_demo_mode_without_debug():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    commands = [line for line in recipe.splitlines() if "manage.py" in line]
    assert commands and all("DJANGO_DEMO=1" in line for line in commands)
    assert all("DJANGO_DEBUG=0" in line for line in commands)
    # Demo mode serves the collected files (hashed and compressed), as `make serve` does.
    steps = [line.split("manage.py ", 1)[1].split()[0] for line in commands]
    assert steps.index("collectstatic") < steps.index("runserver")


def test_no_template_comment_spans_lines():
    """Django's {# #} comment ends at the line's end: one left open is shown to the clinician
    as text (it happened once, above the legal table). Longer notes use {% comment %}."""
    open_comments = [
        f"{path}:{number}"
        for path in (ROOT / "templates").rglob("*.html")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "{#" in line and "#}" not in line.split("{#", 1)[1]
    ]
    assert not open_comments
