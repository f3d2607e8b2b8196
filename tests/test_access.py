"""Every view: anonymous → login, outsider → 404, clinician → allowed; CSRF and methods."""

import pytest
from django.urls import reverse

from checklists.models import ChecklistResponse

from .conftest import HttpsClient, login
from .factories import make_response

pytestmark = pytest.mark.django_db


@pytest.fixture
def response(case, clinician, version):
    return make_response(case, clinician)


def urls(case, response):
    """(name, url, method, POST data) for every page and action on a case."""
    return [
        ("case_list", reverse("case_list"), "get", None),
        ("case_new", reverse("case_new"), "get", None),
        ("case_detail", reverse("case_detail", args=[case.pk]), "get", None),
        ("checklist_start", reverse("checklist_start", args=[case.pk]), "post", {}),
        ("response_detail", reverse("response_detail", args=[response.pk]), "get", None),
        ("section", reverse("section", args=[response.pk, "individual_variability"]), "get", None),
        (
            "section_save",
            reverse("section", args=[response.pk, "individual_variability"]),
            "post",
            {"pregnant": "no", "lock_version": 0},
        ),
        ("review", reverse("review", args=[response.pk]), "get", None),
        ("sign", reverse("sign", args=[response.pk]), "post", {"lock_version": 0}),
    ]


def call(client, method, url, data):
    return client.get(url) if method == "get" else client.post(url, data or {})


def test_anonymous_is_sent_to_login(client, case, response):
    for name, url, method, data in urls(case, response):
        answer = call(client, method, url, data)
        assert answer.status_code == 302, name
        assert answer["Location"].startswith(reverse("login")), name


def test_outsider_gets_404_on_another_teams_case(outsider_client, case, response):
    for name, url, method, data in urls(case, response):
        if name in ("case_list", "case_new"):
            continue
        assert call(outsider_client, method, url, data).status_code == 404, name
    assert ChecklistResponse.objects.count() == 1


def test_clinician_is_allowed(clinician_client, case, response):
    expected = {"checklist_start": 302, "section_save": 302, "sign": 400}
    for name, url, method, data in urls(case, response):
        assert call(clinician_client, method, url, data).status_code == expected.get(name, 200), (
            name
        )


def test_missing_csrf_token_is_403(clinician, case, response):
    strict = login(HttpsClient(enforce_csrf_checks=True), clinician)
    for name, url, method, data in urls(case, response):
        if method == "post":
            refused = strict.post(url, data)
            assert refused.status_code == 403, name
    assert strict.post(reverse("case_new"), {"reference": "X"}).status_code == 403
    response.refresh_from_db()
    assert response.lock_version == 0 and ChecklistResponse.objects.count() == 1


def test_get_on_a_state_changing_url_is_405(clinician_client, case, response):
    assert clinician_client.get(reverse("checklist_start", args=[case.pk])).status_code == 405
    assert clinician_client.get(reverse("sign", args=[response.pk])).status_code == 405
    assert ChecklistResponse.objects.count() == 1


def test_logout_is_post_only(clinician_client):
    assert clinician_client.get(reverse("logout")).status_code == 405
    assert clinician_client.post(reverse("logout")).status_code == 302
    assert clinician_client.get(reverse("case_list")).status_code == 302


def test_user_without_clinical_role_cannot_write(client, team, case, response):
    from .factories import make_user

    viewer = make_user("viewer", role=None, teams=[team])
    login(client, viewer)
    assert client.get(reverse("response_detail", args=[response.pk])).status_code == 200
    refused = client.post(
        reverse("section", args=[response.pk, "individual_variability"]),
        {"pregnant": "yes", "lock_version": 0},
    )
    assert refused.status_code == 403
    assert not response.answers.exists()


def test_healthz(client, db):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.content == b"ok"


def test_authenticated_pages_are_not_cached(clinician_client, case):
    page = clinician_client.get(reverse("case_detail", args=[case.pk]))
    assert "no-store" in page["Cache-Control"]
