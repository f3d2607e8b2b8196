"""Query counts of the editors' admin list pages, pinned: the same for small and large data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checklists.authoring.workflow import new_draft_from
from checklists.models import (
    InteractionRule,
    KnowledgeChange,
    Source,
    Substance,
    VariabilityRule,
)

from .conftest import login
from .factories import make_source, make_version

pytestmark = pytest.mark.django_db

# Exact counts, including the session, user, second-factor device and permission lookups.
# Change them only with a reason in the commit message.
# Every list page: session, user, device, the user's two permission queries, the row count, the
# unfiltered count and the rows; plus one per related-model filter or date hierarchy.
EXPECTED_QUERIES = {
    "checklisttemplate": 8,
    # + the template filter's choices, + overdue legal/lab count (one fewer since access.py
    # asks Django's has_perm, whose cache the admin already filled, instead of a query of its own)
    "templateversion": 9,
    "section": 9,  # + the template filter's choices
    "item": 9,  # + the template filter's choices
    "source": 9,  # + the years for the year filter
    "substance": 9,  # + the drug classes for the class filter
    "interactionrule": 10,  # + the review-by date hierarchy (bounds and years)
    "variabilityrule": 10,  # idem
    # proposals with their proposer and decider joined: no filter of a related model
    "knowledgechange": 8,
    # session, user, device, two permission queries, then one per reviewed table
    # + legal-status and lab-limit tables (3 more queries); + the problem catalogue and the
    # medicine-combination rules (issue 16: one query each); + the legal rows going stale,
    # with their places joined (issue 17, point 5: one query); + the substances, classes
    # and products past their review-by date (issue 17: one query)
    "overdue": 14,
}
PAGES = {name: f"/admin/checklists/{name}/" for name in EXPECTED_QUERIES}
PAGES["overdue"] = "/admin/checklists/templateversion/overdue/"


def build(size: int, editor) -> None:
    """`size` versions over two templates (drafts copied through the service), with
    sources and rules added in proportion."""
    for slug in ("kratom-melatonin-intake", "second-template"):
        version = make_version(slug=slug, extra_items=5 * size)
        for _ in range(size - 1):
            version = new_draft_from(version=version, user=editor)
    for n in range(10 * size):
        make_source(f"extra-source-{size}-{n}")
    rule = InteractionRule.objects.order_by("code").first()
    for n in range(5 * size):
        copy = InteractionRule.objects.create(
            code=f"extra-{n}",
            agent="melatonin" if n % 2 else "kratom",
            target=Substance.objects.create(key=f"extra-{n}", name=f"Extra {n}", kind="drug"),
            severity=rule.severity,
            likelihood=rule.likelihood,
            title=f"Extra {n}",
            mechanism="m",
            advice="a",
        )
        copy.sources.set(Source.objects.all()[:2])
        VariabilityRule.objects.create(
            code=f"extra-v-{n}",
            factor="diabetes",
            agent="any",
            severity="minor",
            title="t",
            advice="a",
        )
        KnowledgeChange.objects.create(
            model_name="interactionrule",
            object_id=copy.pk,
            row_label=copy.code,
            kind="change",
            proposed={"severity": "minor"},
            base={"severity": copy.severity},
            reason="Checked.",
            proposed_by=editor,
        )


def count(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        answer = client.get(url)
        assert answer.status_code == 200, (url, answer.status_code)
    return sum(1 for q in captured if "SAVEPOINT" not in q["sql"])


@pytest.mark.parametrize("size", [1, 4])
@pytest.mark.parametrize("page", list(PAGES))
def test_admin_list_pages(client, editor, size, page):
    build(size, editor)
    login(client, editor)
    assert count(client, PAGES[page]) == EXPECTED_QUERIES[page]
