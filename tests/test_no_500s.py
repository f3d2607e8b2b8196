"""Inputs that used to be 500s answer a clear 400 or a form error: the export's team id past
64 bits and its date at the calendar's end (on SQLite the first failed mid-stream, after
its audit event was written), the version diff's ?against=' and an item's JSON nested a
thousand deep (before issue 21 replaced the item form's JSON boxes with fields).

The property tests send any text to every filter of both CSV exports, to every structured
field of the admin's item form and to the preview's answers: the answer is 200, 400 or a
form error, never a 500 (a stream that fails half-way is a 500 too, so every CSV is read
to its end).
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from checklists.authoring.workflow import new_draft_from
from checklists.models import AuditEvent, Citation, Item

from .factories import make_response
from .test_content_editing import item_form

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
EXPORTED = AuditEvent.Action.EXPORT_CSV


def read(answer) -> str:
    """The whole answer, streamed or not (an error while streaming raises here)."""
    if answer.streaming:
        return b"".join(answer.streaming_content).decode()
    return answer.content.decode()


# --- The export and the audit trail ------------------------------------------------------


@pytest.fixture
def exportable(case, clinician, version):
    return make_response(case, clinician)


@pytest.mark.parametrize(
    "query,field",
    [
        ("team=99999999999999999999", "team"),
        ("team=9223372036854775808", "team"),
        ("date_to=9999-12-31", "date_to"),
        ("date_from=0001-01-01", "date_from"),
    ],
)
def test_csv_team_overflow_is_400_and_not_audited(supervisor_client, exportable, query, field):
    answer = supervisor_client.get(f"{reverse('export_responses_csv')}?{query}")
    assert answer.status_code == 400
    assert f"{field}:" in read(answer)
    assert not AuditEvent.objects.filter(action=EXPORTED).exists()


def test_the_largest_id_and_the_last_date_still_export(supervisor_client, exportable):
    query = "team=9223372036854775807&date_from=1900-01-01&date_to=2999-12-31"
    answer = supervisor_client.get(f"{reverse('export_responses_csv')}?{query}")
    assert answer.status_code == 200
    assert read(answer).count("\n") == 1  # the header: no team has that id
    assert AuditEvent.objects.filter(action=EXPORTED).count() == 1


FILTER_TEXT = st.one_of(
    st.text(max_size=40),
    st.integers().map(str),
    st.integers(min_value=2**62, max_value=2**70).map(str),
    st.dates().map(lambda day: day.isoformat()),
    st.sampled_from(["", "0", "-1", "1e999", "NaN", "9999-12-31", "0001-01-01", "٣", "²"]),
)


@EXAMPLES
@given(
    export=st.fixed_dictionaries(
        {
            name: FILTER_TEXT
            for name in ("team", "date_from", "date_to", "status", "format", "serious")
        }
    ),
    trail=st.fixed_dictionaries(
        {name: FILTER_TEXT for name in ("case", "date_from", "date_to", "user", "action")}
    ),
)
@example(
    export={"team": "99999999999999999999", "date_to": "9999-12-31"},
    trail={"case": "99999999999999999999", "date_to": "9999-12-31", "format": "csv"},
)
def test_csv_filters_take_any_text(supervisor_client, auditor_client, exportable, export, trail):
    before = AuditEvent.objects.filter(action=EXPORTED).count()
    answer = supervisor_client.get(reverse("export_responses_csv"), export)
    assert answer.status_code in (200, 400), answer.status_code
    read(answer)
    after = AuditEvent.objects.filter(action=EXPORTED).count()
    assert after == before + (answer.status_code == 200)
    for page in ({**trail, "format": "csv"}, trail):
        answer = auditor_client.get(reverse("audit"), page)
        assert answer.status_code in (200, 400), answer.status_code
        read(answer)


# --- The version diff --------------------------------------------------------------------


@pytest.fixture
def draft(version, editor):
    return new_draft_from(version=version, user=editor)


@pytest.mark.parametrize("against", ["'", "abc", "1.5", "-1", "99999999999999999999", "1e3"])
def test_diff_against_quote_is_400(editor_client, draft, against):
    url = reverse("admin:checklists_version_diff", args=[draft.pk])
    answer = editor_client.get(url, {"against": against})
    assert answer.status_code == 400
    assert "Choose the version to compare with" in answer.content.decode()


def test_diff_against_a_version_id_still_compares(editor_client, draft, version):
    url = reverse("admin:checklists_version_diff", args=[draft.pk])
    answer = editor_client.get(url, {"against": version.pk})
    assert answer.status_code == 200 and answer.context["against"] == version


# --- The admin's item form ---------------------------------------------------------------

# Every structured field of the item form (issue 21: no JSON boxes any more), and the text
# inputs a row of options or of the screening map posts.
STRUCTURED = (
    "options_rows-0-code",
    "options_rows-0-label",
    "options_rows-5-code",
    "show_item",
    "show_op",
    "show_values",
    "also_item",
    "also_op",
    "also_values",
    "caution_when",
    "caution_severity",
    "caution_problem",
    "caution_title",
    "caution_advice",
    "screening_role",
    "screening_map-0-code",
    "screening_map-0-target",
    "screening_classes",
    "tags",
    "prompt",
    "help_text",
)


@pytest.fixture
def item(draft):
    """A draft's choice item without citations (so the form has no inline rows to send)."""
    item = Item.objects.get(version=draft, key="substances_in_use")
    Citation.objects.filter(item=item).delete()
    return item


def test_item_fields_take_any_text(editor_client, item, draft):
    url = reverse("admin:checklists_item_change", args=[item.pk])
    baseline = item_form(editor_client, item)
    diff = reverse("admin:checklists_version_diff", args=[draft.pk])
    preview = reverse("admin:checklists_version_preview", args=[draft.pk])

    @EXAMPLES
    @given(field=st.sampled_from(STRUCTURED), text=st.text(max_size=80))
    @example(field="show_values", text="substances_in_use")
    @example(field="show_values", text=":")
    @example(field="options_rows-0-code", text="\x00")
    @example(field="caution_when", text="kratom")
    def run(field, text):
        answer = editor_client.post(url, baseline | {field: text})
        assert answer.status_code in (200, 302), answer.status_code
        assert editor_client.get(url).status_code == 200
        assert editor_client.get(diff).status_code == 200
        assert editor_client.get(preview).status_code == 200

    run()


def test_the_preview_takes_any_answer(editor_client, draft):
    preview = reverse("admin:checklists_version_preview", args=[draft.pk])

    @EXAMPLES
    @given(
        key=st.sampled_from(["substances_in_use", "pregnant", "age_years", "jurisdiction", "x"]),
        text=st.text(max_size=40),
    )
    @example(key="age_years", text="1e999")
    def run(key, text):
        assert editor_client.get(preview, {key: text}).status_code == 200

    run()
