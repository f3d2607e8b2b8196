"""Inputs that used to be 500s answer a clear 400 or a form error: the export's team id past
64 bits and its date at the calendar's end (on SQLite the first failed mid-stream, after
its audit event was written), the version diff's ?against=' and an item's JSON nested a
thousand deep, or holding what the database cannot store.

The property tests send any text to every filter of both CSV exports and to every JSON
field of the admin's item form: the answer is 200, 400 or a form error, never a 500 (a
stream that fails half-way is a 500 too, so every CSV is read to its end).
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from checklists.authoring.workflow import new_draft_from
from checklists.models import AuditEvent, Citation, Item

from .factories import make_response

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

JSON_FIELDS = ("show_when", "options", "caution", "screening", "caution_tags")


@pytest.fixture
def item(draft):
    """A draft's item without citations (so the form has no inline rows to send)."""
    item = Item.objects.get(version=draft, key="pregnant")
    Citation.objects.filter(item=item).delete()
    return item


def item_url(item) -> str:
    return reverse("admin:checklists_item_change", args=[item.pk])


def item_form(client, item) -> dict:
    """What the item's change page posts back unchanged."""
    form = client.get(item_url(item)).context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value not in (None, False, ""):
            data[name] = "on" if value is True else str(value)
    management = ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")
    return data | {f"citations-{name}": "0" for name in management}


def stored(item) -> dict:
    return Item.objects.filter(pk=item.pk).values(*JSON_FIELDS).get()


NESTED = {
    "show_when": '{"item": "substances_in_use", "op": "in", "value": '
    + "[" * 999
    + "]" * 999
    + "}",
    "options": "[" * 1000 + "]" * 1000,
    "caution": '{"when": ' * 1000 + "1" + "}" * 1000,
}


@pytest.mark.parametrize("field", NESTED)
def test_deeply_nested_show_when_is_form_error(editor_client, item, field):
    before = stored(item)
    answer = editor_client.post(
        item_url(item), item_form(editor_client, item) | {field: NESTED[field]}
    )
    assert answer.status_code == 200
    assert "at most 10 levels deep" in answer.context["adminform"].form.errors[field][0]
    assert stored(item) == before


UNSTORABLE = {
    "not-a-number": ("show_when", '{"item": "age", "op": "equals", "value": NaN}', "NaN"),
    "infinite": ("caution_tags", "[1e999]", "too large"),
    "twenty-digits": (
        "screening",
        '{"role": "medications", "x": 10000000000000000000}',
        "15 digits",
    ),
    "nul": ("caution_tags", '["a\\u0000b"]', "Remove the control character"),
    "lone-surrogate": ("caution_tags", '["\\ud800"]', "broken character"),
    "too-long": ("caution_tags", json.dumps(["x" * 60_000]), "under 50,000 characters"),
}


@pytest.mark.parametrize("field,text,words", UNSTORABLE.values(), ids=UNSTORABLE.keys())
def test_item_json_the_database_cannot_store_is_form_error(editor_client, item, field, text, words):
    before = stored(item)
    answer = editor_client.post(item_url(item), item_form(editor_client, item) | {field: text})
    assert answer.status_code == 200
    assert words in answer.context["adminform"].form.errors[field][0]
    assert stored(item) == before


MISSHAPEN = {
    "show-when-list": ("show_when", "[]", "'show_when' must be an object"),
    "show-when-item-number": ("show_when", '{"item": 1, "op": "answered"}', "'show_when.item'"),
    "show-when-in-text": ("show_when", '{"item": "a", "op": "in", "value": "x"}', "with 'in'"),
    "options-numbers": ("options", "[1, 2]", "an option must be an object"),
    "caution-severity": (
        "caution",
        '{"when": ["yes"], "severity": ["major"], "advice": "x"}',
        "unknown caution severity",
    ),
    "screening-map-list": ("screening", '{"role": "factors", "map": []}', "'screening.map'"),
    "caution-tags-object": ("caution_tags", '{"a": 1}', "'cautions' must be a list"),
}


@pytest.mark.parametrize("field,text,words", MISSHAPEN.values(), ids=MISSHAPEN.keys())
def test_item_json_of_the_wrong_shape_is_form_error(editor_client, item, field, text, words):
    before = stored(item)
    answer = editor_client.post(item_url(item), item_form(editor_client, item) | {field: text})
    assert answer.status_code == 200
    assert words in " ".join(answer.context["adminform"].form.non_field_errors())
    assert stored(item) == before


def test_emptied_options_are_saved_as_none(editor_client, item):
    """The field left empty was a NOT NULL error (a 500) before."""
    data = item_form(editor_client, item) | {"options": "", "caution_tags": "null"}
    assert editor_client.post(item_url(item), data).status_code == 302
    assert stored(item)["options"] == [] and stored(item)["caution_tags"] == []


def test_a_well_formed_show_when_is_still_saved(editor_client, item):
    condition = {"item": "substances_in_use", "op": "in", "value": ["kratom"]}
    data = item_form(editor_client, item) | {"show_when": json.dumps(condition)}
    assert editor_client.post(item_url(item), data).status_code == 302
    assert stored(item)["show_when"] == condition


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)
JSON_ISH = st.one_of(
    st.text(max_size=60),
    JSON_VALUES.map(json.dumps),
    st.integers(min_value=0, max_value=3000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(min_value=0, max_value=3000).map(lambda depth: '{"a":' * depth + "1" + "}" * depth),
    st.sampled_from(
        ["NaN", "-Infinity", "1e999", '"\\u0000"', '"\\udfff"', "[" * 5000, "{}", "null"]
    ),
)


def test_item_json_fields_take_any_text(editor_client, item, draft):
    baseline = item_form(editor_client, item)
    diff = reverse("admin:checklists_version_diff", args=[draft.pk])

    @EXAMPLES
    @given(field=st.sampled_from(JSON_FIELDS), text=JSON_ISH)
    @example(field="show_when", text="[" * 1000 + "]" * 1000)
    @example(field="options", text="[NaN]")
    @example(field="options", text="")
    @example(field="options", text="true")
    def run(field, text):
        answer = editor_client.post(item_url(item), baseline | {field: text})
        assert answer.status_code in (200, 302), answer.status_code
        assert editor_client.get(item_url(item)).status_code == 200
        assert editor_client.get(diff).status_code == 200

    run()
