"""Query counts of the worklist and the dashboard (issue 20): pinned, and the same at a
few cases and at many (bench/bench.py measures them at 1,000 and 50,000)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from checklists.models import PatientCase

from .conftest import login
from .factories import make_bulk_responses, make_team, make_user, make_version
from .test_dashboard import FLAGS  # the frozen problems both pages read
from .test_queries import count

pytestmark = pytest.mark.django_db

EXPECTED = {
    # session, user, device, the team's clinicians (filter and signers), the page's count
    # and rows (the last signing's flags and signer are subqueries of the rows), the
    # user's permissions (2: own and groups'). The navigation's count due is kept in the
    # session (counted on its first page: see test_follow_ups_count_is_kept_in_the_session).
    "follow_up_list": 8,
    # session, user, device, permissions (2), one query per chart (signed per week,
    # problems by kind, products with a certificate, overdue).
    "dashboard": 9,
    # session, user, device, permissions (2), the chart's one query.
    "dashboard_csv": 6,
}


def _world(cases: int):
    team = make_team()
    clinician = make_user(teams=[team])
    supervisor = make_user(role="Supervisors", teams=[team])
    responses = make_bulk_responses(team, clinician, make_version(), cases, flags=FLAGS)
    today = timezone.localdate()
    for n, response in enumerate(responses):
        PatientCase.objects.filter(pk=response.case_id).update(
            follow_up_due=today + datetime.timedelta(days=n % 40 - 20)
        )
    return clinician, supervisor


@pytest.mark.parametrize("cases", [3, 150])
def test_the_worklist_costs_the_same_at_any_number_of_cases(client, cases):
    clinician, _ = _world(cases)
    login(client, clinician)
    url = reverse("follow_up_list")
    assert count(client, "get", url) == EXPECTED["follow_up_list"]
    assert count(client, "get", f"{url}?clinician={clinician.pk}") == EXPECTED["follow_up_list"]


@pytest.mark.parametrize("cases", [3, 150])
def test_the_dashboard_costs_the_same_at_any_number_of_cases(client, cases):
    _, supervisor = _world(cases)
    login(client, supervisor)
    assert count(client, "get", reverse("dashboard")) == EXPECTED["dashboard"]
    csv = reverse("dashboard_csv", args=["problems"])
    assert count(client, "get", csv) == EXPECTED["dashboard_csv"]
