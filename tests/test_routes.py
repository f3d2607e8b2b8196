"""The route inventory: every URL pattern the project has, held against one table of
expected outcomes for each persona, for GET and for POST (empty body, CSRF satisfied).

A route missing from ROUTES fails the test, so a new page cannot ship unreviewed.
Django's admin is covered by one namespace rule (ADMIN) checked on its index and on a
change list.
"""

import itertools

import pytest
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from .conftest import HttpsClient, login
from .factories import (
    make_case,
    make_lot_with_certificate,
    make_response,
)

pytestmark = pytest.mark.django_db

PERSONAS = ["anonymous", "clinician", "outsider", "supervisor", "editor", "auditor"]
LOGIN = "login"  # a redirect to the login page

# route name → {"GET": outcomes, "POST": outcomes}; outcomes in PERSONAS order.
ROUTES = {
    # Signed-in users are sent on from the login page; logout (POST only) ends at login.
    "login": {"GET": (200, 302, 302, 302, 302, 302), "POST": (200, 302, 302, 302, 302, 302)},
    "logout": {"GET": (405,) * 6, "POST": (LOGIN,) * 6},
    "healthz": {"GET": (200,) * 6, "POST": (405,) * 6},
    # Browsers ask for it on pages without an icon link: sent on to the static icon.
    "favicon": {"GET": (301,) * 6, "POST": (405,) * 6},
    # The second factor and password pages: every signed-in user, whatever their role. A
    # verified session is sent on from the code page; new recovery codes only by POST.
    "mfa_overview": {"GET": (LOGIN,) + (200,) * 5, "POST": (LOGIN,) + (200,) * 5},
    "mfa_verify": {"GET": (LOGIN,) + (302,) * 5, "POST": (LOGIN,) + (302,) * 5},
    "mfa_setup": {"GET": (LOGIN,) + (200,) * 5, "POST": (LOGIN,) + (200,) * 5},
    "mfa_recovery_codes": {"GET": (LOGIN,) + (405,) * 5, "POST": (LOGIN,) + (200,) * 5},
    "password_change": {"GET": (LOGIN,) + (200,) * 5, "POST": (LOGIN,) + (200,) * 5},
    # The name and credentials a signature carries: every signed-in user; an empty POST
    # is a form with errors.
    "profile": {"GET": (LOGIN,) + (200,) * 5, "POST": (LOGIN,) + (200,) * 5},
    "password_change_done": {"GET": (LOGIN,) + (200,) * 5, "POST": (LOGIN,) + (405,) * 5},
    # The admin's own password page leads to the one that asks a current code too.
    "admin_password_change": {"GET": (302,) * 6, "POST": (302,) * 6},
    "case_list": {
        "GET": (LOGIN, 200, 200, 200, 200, 200),
        "POST": (LOGIN, 302, 302, 302, 302, 302),
    },
    "case_new": {"GET": (LOGIN, 200, 200, 403, 403, 403), "POST": (LOGIN, 200, 200, 403, 403, 403)},
    "case_detail": {
        "GET": (LOGIN, 200, 404, 200, 404, 200),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    "case_edit": {
        "GET": (LOGIN, 200, 404, 403, 404, 403),
        "POST": (LOGIN, 302, 404, 403, 404, 403),
    },
    "checklist_start": {
        "GET": (LOGIN, 405, 405, 405, 405, 405),
        "POST": (LOGIN, 302, 404, 403, 404, 403),
    },
    "response_detail": {
        "GET": (LOGIN, 200, 404, 200, 404, 200),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    # Supervisors and auditors may read a draft but not answer it: the section page sends
    # them to the read-only checklist instead of offering Save buttons they would be refused.
    "section": {"GET": (LOGIN, 200, 404, 302, 404, 302), "POST": (LOGIN, 200, 404, 403, 404, 403)},
    "review": {"GET": (LOGIN, 200, 404, 200, 404, 200), "POST": (LOGIN, 405, 405, 405, 405, 405)},
    "sign": {"GET": (LOGIN, 405, 405, 405, 405, 405), "POST": (LOGIN, 400, 404, 403, 404, 403)},
    # GET: the short amendment form (issue 19), or back to the checklist when it is not a
    # signed one (the route's response is a draft); an empty POST is the form again, 400.
    "amend": {"GET": (LOGIN, 302, 404, 403, 404, 403), "POST": (LOGIN, 400, 404, 403, 404, 403)},
    "return_for_amendment": {
        "GET": (LOGIN, 405, 405, 405, 405, 405),
        "POST": (LOGIN, 403, 404, 302, 404, 403),
    },
    "response_changes": {
        "GET": (LOGIN, 200, 404, 200, 404, 200),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    "response_restart": {
        "GET": (LOGIN, 405, 405, 405, 405, 405),
        "POST": (LOGIN, 302, 404, 403, 404, 403),
    },
    "export_note_txt": {
        "GET": (LOGIN, 200, 404, 200, 404, 200),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    "export_note_pdf": {
        "GET": (LOGIN, 200, 404, 200, 404, 200),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    "export_print": {
        "GET": (LOGIN, 200, 404, 200, 404, 200),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    "export_fhir": {
        "GET": (LOGIN, 200, 404, 200, 404, 200),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    "export_responses_csv": {
        "GET": (LOGIN, 403, 403, 200, 403, 200),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    # POST: the clinic reference searched (kept in the session, never in the URL).
    "audit": {"GET": (LOGIN, 403, 403, 403, 403, 200), "POST": (LOGIN, 403, 403, 403, 403, 302)},
    "lot_list": {"GET": (LOGIN, 200, 200, 200, 200, 200), "POST": (LOGIN, 200, 200, 403, 403, 403)},
    "lot_detail": {
        "GET": (LOGIN, 200, 404, 200, 404, 200),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    # An editor outside the lot's team is told it does not exist, as for every team object.
    "coa_new": {"GET": (LOGIN, 405, 405, 405, 405, 405), "POST": (LOGIN, 400, 404, 403, 404, 403)},
    "coa_download": {
        "GET": (LOGIN, 200, 404, 200, 404, 200),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    # Issue 20: the worklist for every signed-in user (their teams' cases); the dashboard
    # and its CSVs for supervisors and auditors (the export permission).
    "follow_up_list": {
        "GET": (LOGIN, 200, 200, 200, 200, 200),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    "dashboard": {
        "GET": (LOGIN, 403, 403, 200, 403, 200),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    "dashboard_csv": {
        "GET": (LOGIN, 403, 403, 200, 403, 200),
        "POST": (LOGIN, 405, 405, 405, 405, 405),
    },
    # The site root redirects to the case list for everyone.
    "<root>": {"GET": (302,) * 6, "POST": (302,) * 6},
}
ADMIN = {"GET": (302, 302, 302, 302, 200, 302)}  # only staff (editors, admins) get in


def all_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                yield "admin:*"
                continue
            yield from all_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield entry.name or "<root>"


@pytest.fixture
def world(settings, tmp_path, version, team, clinician, outsider, supervisor, editor, auditor):
    settings.MEDIA_ROOT = tmp_path
    users = {
        "clinician": clinician,
        "outsider": outsider,
        "supervisor": supervisor,
        "editor": editor,
        "auditor": auditor,
    }
    case = make_case(team, users["clinician"], reference="R-1")
    response = make_response(case, users["clinician"])
    lot, coa = make_lot_with_certificate(
        team, users["clinician"], tested_on=response.started_at.date()
    )
    kwargs = {
        "case_id": case.pk,
        "response_id": response.pk,
        "section_key": "individual_variability",
        "lot_id": lot.pk,
        "coa_id": coa.pk,
        "chart": "overdue",
    }
    return users, kwargs


def url_for(name, kwargs):
    if name == "<root>":
        return "/"
    for size in range(len(kwargs), -1, -1):
        for keys in itertools.combinations(kwargs, size):
            try:
                return reverse(name, kwargs={k: kwargs[k] for k in keys})
            except NoReverseMatch:
                continue
    raise AssertionError(f"cannot build a URL for {name}")


def outcome(answer) -> object:
    if (
        answer.status_code == 302
        and "/accounts/login/" in answer["Location"]
        and "/admin/" not in answer["Location"]
    ):
        return LOGIN
    return answer.status_code


def test_every_route_is_in_the_table():
    found = set(all_patterns())
    assert found - set(ROUTES) - {"admin:*"} == set(), "add these routes to ROUTES"
    assert set(ROUTES) - found == set(), "these routes no longer exist"


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_route_outcomes(world, name):
    users, kwargs = world
    url = url_for(name, kwargs)
    got = {"GET": [], "POST": []}
    for persona in PERSONAS:
        # One session per persona for both methods: the GET changes nothing a POST reads
        # (every state change is POST-only, which this table itself checks).
        client = HttpsClient() if persona == "anonymous" else login(HttpsClient(), users[persona])
        for method in ("GET", "POST"):
            answer = client.get(url) if method == "GET" else client.post(url, {})
            got[method].append(outcome(answer))
    assert {m: tuple(v) for m, v in got.items()} == ROUTES[name], url


@pytest.mark.parametrize("path", ["/admin/", "/admin/checklists/item/"])
def test_admin_namespace(world, path):
    users, _ = world
    got = []
    for persona in PERSONAS:
        client = HttpsClient() if persona == "anonymous" else login(HttpsClient(), users[persona])
        got.append(client.get(path).status_code)
    assert tuple(got) == ADMIN["GET"]
