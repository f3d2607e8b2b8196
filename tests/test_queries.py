"""Query counts pinned: pages cost the same whatever the number of cases or items."""

import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from checklists import refdata

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
#
# Every page drawn in base.html counts the follow-ups due for the navigation ("Follow-ups:
# 3 due", issue 20): one query, +1 on each full page below; fragments (the autosave's
# reply) and redirects do not draw the navigation and do not count.
#
# Counts are for a warm process: the knowledge base and the published version's sections,
# items and citations are already in memory (the "reference" cache: checklists/refdata.py,
# cases/readmodel.py), and one query checks that the knowledge base is still current.
# `COLD_EXTRA` is what the first request of a process (or the first after an editor's
# change) adds.
EXPECTED_QUERIES = {
    # 5 for the page (session, user, device, count, rows) + 2 for all of the user's
    # permissions (Django's ModelBackend: the user's own, then their groups'; cached on the
    # user for the request, so the navigation and the export form share them).
    "case_list": 7,
    # session, user, device, response (with case, team, version), answers, the knowledge-base
    # token, permissions (2), and the audit event of the view (issue 15: every page that
    # shows a checklist's answers is written to the trail; one INSERT, was 8 before).
    # Screening, the legal table and the citations come from memory, and the navigation's
    # count of follow-ups due (issue 20) from the session (context_processors.py: counted
    # on a session's first page and every 2 minutes).
    "section": 9,
    # the section page's 9 + the signer's profile ("Signing as Dana Reyes, PharmD", issue 19).
    "review": 10,
    "review_without_medications": 10,
    # the section page's 9 (its audit event included) + the revision chain, the return
    # requests and the acknowledgements.
    "response_detail": 12,
    # a signed response shows its frozen flags: no knowledge-base token to check.
    "signed_response_detail": 11,
    # session, user, device, response, permissions (2), answers, lock-version bump, one UPDATE for
    # the changed answers, audit event (+1 when answers are new: at most 10 whatever the
    # number of items), + the open window of saves the event folds into (issue 19: one
    # SELECT by case, so autosaves write one event in the trail per window, not per save).
    "section_save": 11,
    # the save's 10 (+1: it also deletes the answers the form left blank) + the knowledge
    # base token for the reply's cautions; the answers are not read again
    # (load_state(rows=...)).
    "autosave": 13,
    # An amendment (issue 16): its review page reads the revision it amends and that
    # revision's acknowledgements once, to carry those of unchanged problems (+2, whatever
    # the number of problems); its section pages show no acknowledgements and cost the same.
    "amendment_section": 9,
    # + the signer's profile, as the review; + the amended revision's answers, for what the
    # amendment changed (issue 19: its sign page shows the changes).
    "amendment_review": 13,
}
# A cold process reads the knowledge base (16 queries: names, classes, two rule tables, the
# places, the legal rows, the lab limits, the problem catalogue and the medicine-combination
# rules (issue 16: +4), each with its sources, and the sources) and the version (sections,
# items, citations). Warm pages are unchanged: folding into problems is done in memory.
COLD_EXTRA = {"knowledge": 16, "version": 3}


def is_transaction_control(sql: str) -> bool:
    return sql.split(" ", 1)[0].upper() in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def cold() -> None:
    """Forget what this process holds, as a freshly started worker would."""
    refdata.cache().clear()


def count(client, method, url, data=None, *, warm: bool = True, **headers) -> int:
    if warm:  # one request first, so the count is the steady state's
        assert client.get(url).status_code in (200, 302)
    with CaptureQueriesContext(connection) as captured:
        answer = (
            client.get(url, **headers) if method == "get" else client.post(url, data, **headers)
        )
        assert answer.status_code in (200, 302), answer.status_code
    # Transaction control is not counted (here the savepoints of the test's wrapping
    # transaction; bench/bench.py leaves out SQLite's BEGIN IMMEDIATE and COMMIT too).
    queries = [q["sql"] for q in captured if not is_transaction_control(q["sql"])]
    if os.environ.get("SHOW_QUERIES"):
        print(f"\n{method.upper()} {url}: {len(queries)} queries")
        print("\n".join(f"  {n}. {sql[:160]}" for n, sql in enumerate(queries, start=1)))
    return len(queries)


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
    cold()  # the worst case: a fresh worker, 52 answers changed
    # 14: the permissions are two queries (the user's own, their groups'), see above; one
    # finds the window of saves the audit event folds into (issue 19).
    assert count(client, "post", url, data, warm=False) <= 14
    filled_response.refresh_from_db()
    # Then the steady state, as bench/bench.py measures it: one answer changed.
    data.update(pregnant="no", lock_version=filled_response.lock_version)
    assert count(client, "post", url, data) == EXPECTED_QUERIES["section_save"]


def test_an_autosave_costs_a_save_and_the_answers_for_the_reply(client, filled_response):
    """htmx posts the section on every change; the reply (saved-at, new lock version,
    matches and cautions) reads the answers once more."""
    url = reverse("section", args=[filled_response.pk, "medication_interactions"])
    data = {
        "current_medications-0-name": "oxycodone",
        "lock_version": filled_response.lock_version,
    }
    n = count(client, "post", url, data, HTTP_HX_REQUEST="true")
    assert n <= 13
    assert n == EXPECTED_QUERIES["autosave"]


PAGE_URLS = {
    "section": lambda r: reverse("section", args=[r.pk, "individual_variability"]),
    "review": lambda r: reverse("review", args=[r.pk]),
    "response_detail": lambda r: reverse("response_detail", args=[r.pk]),
}


@pytest.mark.parametrize("page", list(PAGE_URLS))
def test_a_fresh_process_reads_knowledge_and_version_once(client, filled_response, page):
    url = PAGE_URLS[page](filled_response)
    client.get(reverse("case_list"))  # the session's first page counts the follow-ups due
    cold()
    first = count(client, "get", url, warm=False)
    assert first == EXPECTED_QUERIES[page] + sum(COLD_EXTRA.values())
    assert count(client, "get", url, warm=False) == EXPECTED_QUERIES[page]


def test_signing_keeps_a_snapshot_and_costs_the_same(client, filled_response):
    sign(filled_response, filled_response.started_by)
    assert (
        count(client, "get", reverse("response_detail", args=[filled_response.pk]))
        == EXPECTED_QUERIES["signed_response_detail"]
    )


@pytest.mark.parametrize("screen", ["section", "review"])
def test_an_amendment_reads_what_it_carries_once(client, filled_response, screen):
    """The carried acknowledgements come from one read of the amended revision and one of
    its acknowledgements, not one per problem."""
    from checklists.cases.signing import amend_response

    sign(filled_response, filled_response.started_by)
    filled_response.refresh_from_db()
    draft = amend_response(
        response=filled_response, user=filled_response.started_by, reason="Correct the notes."
    )
    url = PAGE_URLS[screen](draft)
    assert count(client, "get", url) == EXPECTED_QUERIES[f"amendment_{screen}"]


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
