"""Production settings, headers and cookies on every route as every role, error pages."""

import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import URLResolver, get_resolver, reverse

from checklists.models import LegalStatus, Team
from checklists.request_id import REQUEST_ID_HEADER

from .conftest import HttpsClient, login
from .factories import (
    PASSWORD,
    make_lot_with_certificate,
    make_response,
    make_totp_device,
    make_user,
    totp_code,
)
from .test_routes import ROUTES, url_for

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "production-like-key-" + "q8Zr7xW2mP" * 5,
    "DJANGO_ALLOWED_HOSTS": "checklists.example.org",
}


def manage(*args: str, env: dict[str, str], code: str | None = None):
    """Run manage.py (or `python -c code`) with a clean DJANGO_* environment."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    command = [sys.executable, "-c", code] if code else [sys.executable, "manage.py", *args]
    return subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        command, cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60
    )


# --- Production settings ---------------------------------------------------------------


def test_deploy_check_reports_nothing_on_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    "change, variable",
    [
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "too-short-for-production"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_ALLOWED_HOSTS": ""}, "DJANGO_ALLOWED_HOSTS"),
        ({"DJANGO_ALLOWED_HOSTS": "*"}, "DJANGO_ALLOWED_HOSTS"),
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG"),
        ({"DJANGO_HTTPS": "sometimes"}, "DJANGO_HTTPS"),
        ({"DATABASE_URL": "nonsense://"}, "DATABASE_URL"),
    ],
)
def test_a_bad_setting_stops_start_up_naming_the_variable(change, variable):
    env = {**PRODUCTION_ENV, **change}
    for result in (
        manage("check", env=env),
        manage(env=env, code="import clinic.wsgi"),  # what gunicorn imports
    ):
        assert result.returncode == 78
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("Configuration error: ") and variable in result.stderr
        assert result.stderr.count("\n") == 1


def test_makemigrations_needs_no_production_secrets_but_serving_commands_do():
    # Comparing models with migrations reads only the code; everything else still refuses.
    bare = {"DATABASE_URL": "sqlite:///:memory:"}
    compared = manage("makemigrations", "--check", "--dry-run", env=bare)
    assert compared.returncode == 0, compared.stdout + compared.stderr
    for command in (("check",), ("migrate", "--plan"), ("runserver", "--help")):
        refused = manage(*command, env=bare)
        assert refused.returncode == 78 and "DJANGO_SECRET_KEY" in refused.stderr, command


def test_csp_forbids_inline_script_plugins_base_and_framing(client):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


def test_no_template_carries_inline_script_or_style():
    """The policy would block them; keep the pages working without 'unsafe-inline'."""
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(
            r"\sstyle=|\son[a-z]+=|javascript:", text
        ):
            offenders.append(template.name)
    assert offenders == []


def test_plain_http_is_redirected_to_https(db):
    answer = HttpsClient(https=False).get("/cases/")
    assert answer.status_code == 301 and answer["Location"] == "https://testserver/cases/"


# --- Every route, every role ---------------------------------------------------------------


def route_keys(resolver=None, prefix="", namespace=None):
    """(key, pattern) for every route served: its name ("admin:index"), or for an unnamed
    route its full pattern."""
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(n for n in (namespace, pattern.namespace) if n) or None
            yield from route_keys(pattern, prefix + str(pattern.pattern), inner)
        elif pattern.name:
            yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), pattern
        else:
            yield prefix + str(pattern.pattern), pattern


def sample_urls(objects) -> dict[str, str]:
    """A URL to request for every route, with ids from the fixtures. A route missing here
    fails the inventory test: add it when you add a page."""
    kwargs = {
        "case_id": objects.case.pk,
        "response_id": objects.response.pk,
        "section_key": "individual_variability",
        "lot_id": objects.lot.pk,
        "coa_id": objects.coa.pk,
        "chart": "overdue",
    }
    # The application's own routes are built as the route inventory builds them.
    urls = {("" if key == "<root>" else key): url_for(key, kwargs) for key in ROUTES}
    version = objects.version
    urls |= {
        "admin:index": reverse("admin:index"),
        "admin:login": reverse("admin:login"),
        "admin:logout": reverse("admin:logout"),
        "admin:password_change": reverse("admin:password_change"),
        "admin:password_change_done": reverse("admin:password_change_done"),
        "admin:autocomplete": reverse("admin:autocomplete"),
        "admin:jsi18n": reverse("admin:jsi18n"),
        "admin:view_on_site": reverse(
            "admin:view_on_site",
            args=[ContentType.objects.get_for_model(Team).pk, objects.case.team_id],
        ),
        "admin:app_list": reverse("admin:app_list", args=["checklists"]),
        "admin/(?P<url>.*)$": "/admin/no-such-page/",
        "admin:auth_user_password_change": reverse(
            "admin:auth_user_password_change", args=[objects.users["clinician"].pk]
        ),
        "admin:otp_totp_totpdevice_config": reverse(
            "admin:otp_totp_totpdevice_config", args=[objects.device.pk]
        ),
        "admin:otp_totp_totpdevice_qrcode": reverse(
            "admin:otp_totp_totpdevice_qrcode", args=[objects.device.pk]
        ),
        "admin:checklists_content_overdue": reverse("admin:checklists_content_overdue"),
        "admin:checklists_version_diff": reverse(
            "admin:checklists_version_diff", args=[version.pk]
        ),
        "admin:checklists_version_workflow": reverse(
            "admin:checklists_version_workflow", args=[version.pk, "submit"]
        ),
        "admin:checklists_version_preview": reverse(
            "admin:checklists_version_preview", args=[version.pk]
        ),
        "admin:checklists_version_review": reverse(
            "admin:checklists_version_review", args=[version.pk]
        ),
        # A missing proposal: a GET is refused (405), a POST answers 404 or the login.
        "admin:checklists_knowledge_decide": reverse(
            "admin:checklists_knowledge_decide", args=[0, "approve"]
        ),
        "admin:checklists_release_decide": reverse(
            "admin:checklists_release_decide", args=[0, "approve"]
        ),
        "admin:checklists_legalstatus_reverify": reverse(
            "admin:checklists_legalstatus_reverify",
            args=[LegalStatus.objects.values_list("pk", flat=True).first() or 0],
        ),
    }
    # Every model in the admin has the same five pages and a redirect; its first row (or
    # a missing id, which the admin answers with a redirect) stands in for any object.
    for model in admin.site._registry:
        app, name = model._meta.app_label, model._meta.model_name
        pk = model._default_manager.values_list("pk", flat=True).order_by("pk").first() or 0
        base = f"admin:{app}_{name}"
        urls[f"{base}_changelist"] = reverse(f"{base}_changelist")
        urls[f"{base}_add"] = reverse(f"{base}_add")
        for page in ("history", "delete", "change"):
            urls[f"{base}_{page}"] = reverse(f"{base}_{page}", args=[pk])
        urls[f"admin/{app}/{name}/<path:object_id>/"] = f"/admin/{app}/{name}/{pk}/"
        if hasattr(model, "history"):  # django-simple-history's page for one past state
            past = model.history.values_list("history_id", flat=True).order_by("pk").first()
            urls[f"{base}_simple_history"] = reverse(f"{base}_simple_history", args=[pk, past or 0])
    return urls


@pytest.fixture
def objects(
    case, version, settings, tmp_path, clinician, outsider, supervisor, staff_auditor, editor
):
    settings.MEDIA_ROOT = tmp_path
    users = {
        "clinician": clinician,
        "outsider": outsider,
        "supervisor": supervisor,
        # Staff, so the walk also reaches the admin's read-only audit list as an auditor.
        "auditor": staff_auditor,
        "editor": editor,
        # pytest-django's admin_user has its own password; this one logs in like the others.
        "admin": make_user("admin", role=None, is_staff=True, is_superuser=True),
    }
    response = make_response(case, users["clinician"])
    lot, coa = make_lot_with_certificate(case.team, users["clinician"])
    return SimpleNamespace(
        users=users,
        case=case,
        response=response,
        device=make_totp_device(users["clinician"]),
        version=version,
        lot=lot,
        coa=coa,
    )


def test_every_route_has_a_sample_url(objects):
    routes = {key for key, _ in route_keys()}
    samples = set(sample_urls(objects))
    assert routes - samples == set(), "routes without a sample URL in sample_urls()"
    assert samples - routes == set(), "sample URLs for routes that no longer exist"


ALLOWED_COOKIES = {"__Host-sessionid", "__Host-csrftoken"}


def assert_hardened(answer, *, signed_in: bool, where: str) -> None:
    headers = answer.headers
    assert re.fullmatch(r"[0-9a-f]{32}", headers.get(REQUEST_ID_HEADER, "")), where
    assert headers.get("Strict-Transport-Security") == "max-age=31536000; includeSubDomains", where
    policy = headers.get("Content-Security-Policy", "")
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in policy, (where, directive)
    assert "unsafe-inline" not in policy, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") == "same-origin", where
    assert headers.get("X-Frame-Options") == "DENY", where
    if signed_in:
        assert "no-store" in headers.get("Cache-Control", ""), where
    for name, morsel in answer.cookies.items():
        assert name in ALLOWED_COOKIES, (where, name)
        assert morsel["secure"] and morsel["path"] == "/" and not morsel["domain"], (where, name)
        assert morsel["samesite"] == "Lax", (where, name)
        if name == "__Host-sessionid" and morsel.value:  # (a deletion carries no value)
            assert morsel["httponly"], where


ROLES = ["anonymous", "clinician", "outsider", "supervisor", "auditor", "editor", "admin"]


@pytest.mark.parametrize("role", ROLES)
def test_headers_and_cookies_on_every_route(objects, role):
    client = HttpsClient()
    if role != "anonymous":
        login(client, objects.users[role])
    statuses = {}
    for key, url in sorted(sample_urls(objects).items()):
        if key in ("logout", "admin:logout"):
            continue  # would end the session; checked once at the end
        answer = client.get(url)
        assert answer.status_code < 500, (key, answer.status_code)
        assert_hardened(answer, signed_in=role != "anonymous", where=f"GET {key} as {role}")
        statuses[key] = answer.status_code
        if answer.status_code == 405:  # a POST-only action: post to it too
            posted = client.post(url, {})
            assert posted.status_code < 500, (key, posted.status_code)
            assert_hardened(posted, signed_in=role != "anonymous", where=f"POST {key} as {role}")
    ended = client.post(reverse("logout"))
    assert_hardened(ended, signed_in=role != "anonymous", where=f"logout as {role}")
    if role != "anonymous":
        assert ended.cookies["__Host-sessionid"].value == "", "logout deletes the cookie"
    # The walk reached real pages, not only redirects to the login page.
    expected_ok = 1 if role == "anonymous" else 5
    assert sum(status == 200 for status in statuses.values()) >= expected_ok, statuses


@pytest.mark.parametrize("role", ["clinician", "admin"])
def test_login_sets_only_host_prefixed_secure_cookies(objects, role):
    client = HttpsClient()
    page = client.get(reverse("login"))
    assert set(page.cookies) == {"__Host-csrftoken"}
    assert_hardened(page, signed_in=False, where="login page")
    logged_in = client.post(reverse("login"), {"username": role, "password": PASSWORD})
    assert logged_in.status_code == 302
    session = logged_in.cookies["__Host-sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert not session["max-age"] and not session["expires"], "a browser-session cookie"
    assert_hardened(logged_in, signed_in=False, where="login post")
    device = make_totp_device(objects.users[role])
    verified = client.post(reverse("mfa_verify"), {"otp_token": totp_code(device)})
    assert verified.status_code == 302
    assert verified.cookies["__Host-sessionid"].value != session.value
    assert_hardened(verified, signed_in=True, where="second factor")


# --- Error pages ---------------------------------------------------------------------------


def test_an_unexpected_error_shows_the_generic_page_and_logs_its_id(
    clinician_client, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise RuntimeError("internal detail: SELECT secret FROM somewhere")

    monkeypatch.setattr("checklists.views.cases.Paginator", broken)
    clinician_client.raise_request_exception = False
    answer = clinician_client.get(reverse("case_list"))
    request_id = answer[REQUEST_ID_HEADER]
    assert answer.status_code == 500
    assert "Something went wrong on our side" in answer.text
    assert request_id in answer.text
    for leak in ("Traceback", "internal detail", "SELECT", "RuntimeError", "settings"):
        assert leak not in answer.text
    logged = [r for r in caplog.records if r.name == "django.request" and r.levelname == "ERROR"]
    assert logged and logged[-1].request_id == request_id
    assert logged[-1].exc_info and "internal detail" in str(logged[-1].exc_info[1])


@pytest.mark.parametrize("path", ["/no-such-page/", "/cases/999999/", "/responses/0/"])
def test_not_found_is_generic_and_logged_with_its_id(clinician_client, path, caplog):
    answer = clinician_client.get(path)
    assert answer.status_code == 404 and "Page not found" in answer.text
    assert "URLconf" not in answer.text and "Traceback" not in answer.text
    logged = [r for r in caplog.records if r.name == "django.request"]
    assert logged, "Django logs every 4xx"
    for record in logged:  # set by the filter on the configured console handler
        assert record.request_id == answer[REQUEST_ID_HEADER]


def test_a_forged_post_gets_the_plain_403_page(clinician):
    strict = login(HttpsClient(enforce_csrf_checks=True), clinician)
    answer = strict.post(reverse("case_new"), {"reference": "X-1"})
    assert answer.status_code == 403 and "This form has expired" in answer.text
    assert "CSRF" not in answer.text and "Referer" not in answer.text
