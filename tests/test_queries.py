"""Query counts pinned: pages cost the same whatever the number of cases or items."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .conftest import login
from .factories import (
    fill,
    make_case,
    make_response,
    make_team,
    make_user,
    make_version,
    sign,
)

pytestmark = pytest.mark.django_db

# Exact counts, including the session, user and second-factor device lookups (django-otp
# checks on every request that the device which verified the session still exists), the
# navigation's audit-permission check and the audit write where a page records a view.
# Change them only with a reason in the commit message.
EXPECTED_QUERIES = {
    # 5 for the page (session, user, device, count, rows) + 1 for all of the user's
    # permissions (navigation, export form).
    "case_list": 6,
    # 8 for the page itself + 6 for screening (names, classes, two rule tables and their
    # sources) + 3 for the legal table (place, rows in effect, their sources) when the
    # medication list and jurisdiction are answered.
    "section": 18,
    "review": 18,
    "review_without_medications": 13,
    "response_detail": 22,
    "signed_response_detail": 12,
    "section_save": 10,
}


def count(client, method, url, data=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        answer = client.get(url) if method == "get" else client.post(url, data)
        assert answer.status_code in (200, 302), answer.status_code
    # Savepoints come from the test's own wrapping transaction, not from the view.
    return sum(1 for q in captured if "SAVEPOINT" not in q["sql"])


@pytest.mark.parametrize("cases", [5, 200])
def test_case_list(client, cases):
    team = make_team()
    user = make_user(teams=[team])
    for n in range(cases):
        make_case(team, user, reference=f"Q-{n}")
    login(client, user)
    assert count(client, "get", reverse("case_list")) == EXPECTED_QUERIES["case_list"]
    assert (
        count(client, "get", reverse("case_list") + "?status=&page=1")
        == EXPECTED_QUERIES["case_list"]
    )


@pytest.fixture(params=[0, 50], ids=["10-items", "60-items"])
def filled_response(request, client):
    make_version(extra_items=request.param)
    team = make_team()
    user = make_user(teams=[team])
    response = make_response(make_case(team, user), user)
    fill(response, user)
    login(client, user)
    return response


def test_section_page(client, filled_response):
    url = reverse("section", args=[filled_response.pk, "individual_variability"])
    assert count(client, "get", url) == EXPECTED_QUERIES["section"]


def test_review_page(client, filled_response):
    assert (
        count(client, "get", reverse("review", args=[filled_response.pk]))
        == EXPECTED_QUERIES["review"]
    )


def test_response_page(client, filled_response):
    assert (
        count(client, "get", reverse("response_detail", args=[filled_response.pk]))
        == EXPECTED_QUERIES["response_detail"]
    )


def test_saving_a_section_whatever_the_number_of_items_changed(client, filled_response):
    extra = {f"extra_{n}": f"changed {n}" for n in range(50)}
    data = {
        "pregnant": "yes",
        "age_years": "51",
        **extra,
        "lock_version": filled_response.lock_version,
    }
    url = reverse("section", args=[filled_response.pk, "individual_variability"])
    assert count(client, "post", url, data) <= 12
    filled_response.refresh_from_db()
    data["lock_version"] = filled_response.lock_version
    assert count(client, "post", url, data) == EXPECTED_QUERIES["section_save"]


def test_signing_keeps_a_snapshot_and_costs_the_same(client, filled_response):
    sign(filled_response, filled_response.started_by)
    assert (
        count(client, "get", reverse("response_detail", args=[filled_response.pk]))
        == EXPECTED_QUERIES["signed_response_detail"]
    )


def test_review_page_with_every_required_item_missing(client):
    make_version(extra_items=50)
    team = make_team()
    user = make_user(teams=[team])
    response = make_response(make_case(team, user), user)
    login(client, user)
    assert (
        count(client, "get", reverse("review", args=[response.pk]))
        == EXPECTED_QUERIES["review_without_medications"]
    )
