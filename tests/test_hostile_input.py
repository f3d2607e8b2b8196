"""Hostile input: generated posts to every form never give a 500, what is typed comes back
escaped on every page that shows it, and an oversized body is refused before it is read."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from axes.models import AccessAttempt
from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.urls import reverse
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import from_field, from_form

from accounts import mfa
from accounts.forms import EnrolForm, SecondFactorForm
from checklists.cases.readmodel import load_state
from checklists.cases.signing import amend_response, return_for_amendment
from checklists.forms import (
    AmendForm,
    AuditFilterForm,
    CaseEditForm,
    CaseFilterForm,
    CaseForm,
    CaseSearchForm,
    COAForm,
    ExportFilterForm,
    LotForm,
    PlainTextField,
    RestartForm,
    ReturnForm,
    RowListField,
    SectionForm,
    SignForm,
)
from checklists.models import Answer, Item, LabLimit, Team
from checklists.suppliers.lots import create_lot

from .conftest import HttpsClient, login
from .factories import (
    PASSWORD,
    SECTION_KEYS,
    fill,
    load_knowledge,
    make_case,
    make_lot_with_certificate,
    make_response,
    make_totp_device,
    sign,
)

pytestmark = pytest.mark.django_db

CORPUS = [
    '<script>alert("xss")</script>',
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "</textarea><script>alert(2)</script>",
    '=HYPERLINK("http://evil.example","x")',
    '+cmd|" /C calc"!A0',
    "@SUM(1+1)",
    "{{ request }} {% debug %}",
    "フレームワークのベンチマーク",
    "Ωmega – \u202ereversed\u202c – مرحبا – 🙂",
    "nul\x00byte",
    "x" * 5000,
]
HOSTILE = st.one_of(
    st.sampled_from(CORPUS),
    st.text(max_size=200),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=20),
    st.builds(lambda n: "long " * n, st.integers(min_value=100, max_value=30_000)),
)
# How many examples comes from the hypothesis profile (tests/conftest.py): 25 by default,
# 200 in CI.
EXAMPLES = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NO_SERVER_ERROR = {200, 302, 400, 403, 404, 405, 409, 429}


def overrides(form: forms.Form) -> dict:
    """Per field: what from_form infers, or hostile text; rows of hostile text for the
    row-list fields hypothesis knows nothing about."""
    strategies = {}
    for name, field in form.fields.items():
        if isinstance(field, RowListField):
            row = st.fixed_dictionaries({col: HOSTILE for col, _ in field.columns})
            strategies[name] = st.lists(row, max_size=3)
        elif isinstance(field, forms.ModelChoiceField):
            pks = [str(pk) for pk in field.queryset.values_list("pk", flat=True)]
            strategies[name] = st.sampled_from([*pks, "0", "-1", "x", ""])
        elif isinstance(field, forms.FileField):
            strategies[name] = HOSTILE  # posted as text where a file belongs
        elif isinstance(field, PlainTextField):
            strategies[name] = st.one_of(from_field(as_char_field(field)), HOSTILE)
        elif isinstance(field, forms.CharField):
            # Our CharField subclasses (PlainTextField) are drawn as the CharField they are.
            plain = forms.CharField(max_length=field.max_length, required=field.required)
            strategies[name] = st.one_of(from_field(plain), HOSTILE)
        else:
            strategies[name] = st.one_of(from_field(field), HOSTILE)
    return strategies


def as_char_field(field: PlainTextField) -> forms.CharField:
    """The plain CharField a PlainTextField extends: hypothesis infers strategies by exact
    field type, so it has none for the subclass; its length limits still apply."""
    return forms.CharField(
        max_length=field.max_length, min_length=field.min_length, required=field.required
    )


def as_post(data: dict) -> dict:
    """A generated form's data as a browser would post it."""
    posted = {}
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for index, row in enumerate(value):
                for col, text in row.items():
                    posted[f"{key}-{index}-{col}"] = text
        elif isinstance(value, list | tuple):
            posted[key] = [str(v) for v in value]
        elif isinstance(value, datetime.date | Decimal | int | float | bool):
            posted[key] = str(value)
        else:
            posted[key] = value
    return posted


def post(client, url, form) -> int:
    answer = client.post(url, as_post(form.data))
    assert answer.status_code in NO_SERVER_ERROR, answer.status_code
    return answer.status_code


def strategy(form_class, **form_kwargs):
    return from_form(form_class, form_kwargs=form_kwargs, **overrides(form_class(**form_kwargs)))


# --- Every form, generated posts (as many as the hypothesis profile says) -------------


@pytest.fixture
def ready(case, clinician, version):
    """A complete draft whose answers raise serious flags (so the sign form asks for
    acknowledgements)."""
    response = make_response(case, clinician)
    fill(response, clinician)
    return response


def test_login_form(client, clinician):
    @EXAMPLES
    @given(form=strategy(AuthenticationForm))
    def run(form):
        post(client, reverse("login"), form)

    run()


def test_case_form(clinician_client, team):
    teams = Team.objects.filter(pk=team.pk)

    @EXAMPLES
    @given(form=strategy(CaseForm, teams=teams))
    def run(form):
        post(clinician_client, reverse("case_new"), form)

    run()


def test_case_search_and_filter_forms(clinician_client):
    @EXAMPLES
    @given(search=strategy(CaseSearchForm), filters=strategy(CaseFilterForm))
    def run(search, filters):
        post(clinician_client, reverse("case_list"), search)
        listing = clinician_client.get(reverse("case_list"), as_post(filters.data))
        assert listing.status_code == 200

    run()


@pytest.mark.parametrize("section_key", SECTION_KEYS)
def test_section_form(clinician_client, clinician, case, version, section_key):
    response = make_response(case, clinician)
    items = list(Item.objects.filter(version=version, section__key=section_key))
    url = reverse("section", args=[response.pk, section_key])

    @EXAMPLES
    @given(form=strategy(SectionForm, items=items, answers={}))
    def run(form):
        response.refresh_from_db(fields=["lock_version"])
        form.data["lock_version"] = response.lock_version
        post(clinician_client, url, form)

    run()


def test_sign_form(clinician_client, clinician, ready):
    flags = load_state(ready).flags
    url = reverse("sign", args=[ready.pk])

    @EXAMPLES
    @given(form=strategy(SignForm, user=clinician, flags=flags))
    def run(form):
        # Each generated password is wrong: without a clean count the fifth would end the
        # session (the lockout, tested in test_account_takeover.py) and the rest test nothing.
        AccessAttempt.objects.all().delete()
        ready.refresh_from_db(fields=["lock_version"])
        form.data["lock_version"] = ready.lock_version
        post(clinician_client, url, form)

    run()


def test_second_factor_forms(clinician, colleague):
    make_totp_device(clinician)
    enrolled = HttpsClient()
    enrolled.post(reverse("login"), {"username": "clinician", "password": PASSWORD})
    enrolling = HttpsClient()
    enrolling.post(reverse("login"), {"username": "colleague", "password": PASSWORD})

    first_device = mfa.pending_device(colleague)

    @EXAMPLES
    @given(
        code=strategy(SecondFactorForm, user=clinician),
        first=strategy(EnrolForm, user=colleague, device=first_device, ask_password=False),
    )
    def run(code, first):
        post(enrolled, reverse("mfa_verify"), code)
        post(enrolling, reverse("mfa_setup"), first)

    run()


def test_password_change_form(clinician_client, clinician):
    @EXAMPLES
    @given(form=strategy(PasswordChangeForm, user=clinician))
    def run(form):
        data = as_post(form.data)
        data.pop("old_password", None)  # never the right one: the password stays as it is
        answer = clinician_client.post(reverse("password_change"), data)
        assert answer.status_code == 200

    run()


def test_case_edit_form(clinician_client, case):
    @EXAMPLES
    @given(form=strategy(CaseEditForm, instance=case))
    def run(form):
        post(clinician_client, reverse("case_edit", args=[case.pk]), form)

    run()


def test_lot_and_certificate_forms(clinician_client, clinician, team, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    load_knowledge()
    lot, _ = make_lot_with_certificate(team, clinician)
    teams = Team.objects.filter(pk=team.pk)
    limits = LabLimit.objects.filter(substance="kratom")

    # The lot form has a field called "form", which from_form() takes for its own
    # argument, so its fields are drawn directly.
    new_lots = st.fixed_dictionaries(overrides(LotForm(teams=teams)))

    @EXAMPLES
    @given(new_lot=new_lots, coa=strategy(COAForm, limits=limits))
    def run(new_lot, coa):
        answer = clinician_client.post(reverse("lot_list"), as_post(new_lot))
        assert answer.status_code in NO_SERVER_ERROR, answer.status_code
        post(clinician_client, reverse("coa_new", args=[lot.pk]), coa)

    run()


def test_amend_return_and_restart_forms(
    clinician_client, supervisor_client, clinician, case, ready, team
):
    sign(ready, clinician)
    draft = make_response(make_case(team, clinician), clinician)

    @EXAMPLES
    @given(amend=strategy(AmendForm), back=strategy(ReturnForm), restart=strategy(RestartForm))
    def run(amend, back, restart):
        post(clinician_client, reverse("amend", args=[ready.pk]), amend)
        post(supervisor_client, reverse("return_for_amendment", args=[ready.pk]), back)
        post(clinician_client, reverse("response_restart", args=[draft.pk]), restart)

    run()


def test_audit_and_export_filter_forms(clinician, auditor_client):

    @EXAMPLES
    @given(audit=strategy(AuditFilterForm), export=strategy(ExportFilterForm))
    def run(audit, export):
        for url, form in ((reverse("audit"), audit), (reverse("export_responses_csv"), export)):
            answer = auditor_client.get(url, as_post(form.data))
            assert answer.status_code in NO_SERVER_ERROR, (url, answer.status_code)
            if answer.streaming:
                b"".join(answer.streaming_content)  # an error mid-stream is a 500 too

    run()


# --- What is typed comes back escaped ----------------------------------------------------

DISPLAYED = [text for text in CORPUS if "\x00" not in text and len(text) < 1000]


def assert_escaped(html: str, text: str) -> None:
    assert escape(text) in html, text[:40]
    if escape(text) != text:
        assert text not in html, text[:40]


@pytest.mark.parametrize("text", DISPLAYED)
def test_stored_answers_are_escaped_on_every_page(clinician_client, clinician, ready, text):
    medications = {"current_medications-0-name": text, "current_medications-0-dose": text}
    for section, data in [
        ("medication_interactions", {"substances_in_use": ["kratom"], **medications}),
        ("supplier_lab_testing", {"product_in_use-0-product": text, "product_in_use-0-lot": text}),
        ("plan_and_monitoring", {"follow_up_date": "2026-12-01", "clinician_notes": text}),
    ]:
        ready.refresh_from_db(fields=["lock_version"])
        saved = clinician_client.post(
            reverse("section", args=[ready.pk, section]),
            {**data, "lock_version": ready.lock_version, "stay": "1"},
        )
        assert saved.status_code == 302, section
    notes = Answer.objects.get(response=ready, item__key="clinician_notes")
    assert notes.value == text.strip()  # stored as typed, scripts and all
    pages = [
        reverse("section", args=[ready.pk, "medication_interactions"]),
        reverse("section", args=[ready.pk, "supplier_lab_testing"]),
        reverse("section", args=[ready.pk, "plan_and_monitoring"]),
        reverse("review", args=[ready.pk]),
        reverse("response_detail", args=[ready.pk]),
    ]
    for url in pages:
        page = clinician_client.get(url)
        assert page.status_code == 200, url
        assert_escaped(page.text, text.strip())
    assert "WSGIRequest" not in page.text  # "{{ request }}" was text, not a template


@pytest.mark.parametrize("text", DISPLAYED)
def test_lots_comments_and_reasons_are_escaped_where_shown(
    clinician_client, clinician, supervisor, ready, team, text, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    text = text.strip()
    lot = create_lot(
        user=clinician,
        team=team,
        supplier=text[:120],
        product=text[:120],
        substance="kratom",
        form="leaf_powder",
        labelled_amount_mg=None,
        lot_number=text[:60],
    )
    for url in (reverse("lot_list"), reverse("lot_detail", args=[lot.pk])):
        page = clinician_client.get(url)
        assert page.status_code == 200, url
        assert_escaped(page.text, text[:60])
    signed = sign(ready, clinician)
    return_for_amendment(response=signed, user=supervisor, comment=text)
    amendment = amend_response(response=signed, user=clinician, reason=text)
    for response in (signed, amendment):
        page = clinician_client.get(reverse("response_detail", args=[response.pk]))
        assert page.status_code == 200
        assert_escaped(page.text, text)


@pytest.mark.parametrize("text", DISPLAYED)
def test_refused_input_is_shown_back_escaped(clinician_client, clinician, ready, text):
    short = text[:40]
    pages = {
        "case form": clinician_client.post(
            reverse("case_new"), {"reference": short, "initials": short, "jurisdiction": short}
        ),
        "search": clinician_client.get(
            clinician_client.post(reverse("case_list"), {"q": short})["Location"]
        ),
        "sign comment": clinician_client.post(
            reverse("sign", args=[ready.pk]),
            {
                "password": "wrong",
                "lock_version": ready.lock_version,
                **{
                    name: text
                    for name in SignForm(user=clinician, flags=load_state(ready).flags).fields
                    if name.endswith("_comment")
                },
            },
        ),
        "login": HttpsClient().post(reverse("login"), {"username": short, "password": "x"}),
    }
    for where, page in pages.items():
        assert page.status_code in (200, 400), where
        shown = short if where != "sign comment" else text
        if where == "search" and escape(short) not in page.text:
            continue  # refused by the search form (control characters): nothing to show
        assert_escaped(page.text, shown.strip())


@pytest.mark.parametrize("text", ["nul\x00byte", "a\x00", "\x00" * 10])
def test_nul_bytes_are_refused_not_stored(clinician_client, ready, text):
    ready.refresh_from_db(fields=["lock_version"])
    refused = clinician_client.post(
        reverse("section", args=[ready.pk, "plan_and_monitoring"]),
        {"clinician_notes": text, "lock_version": ready.lock_version},
    )
    assert refused.status_code == 200
    assert "Null characters are not allowed" in refused.text or "control characters" in refused.text
    notes = Answer.objects.get(response=ready, item__key="clinician_notes")
    assert notes.value == "Start low."  # what fill() saved, untouched


# --- Oversized bodies -----------------------------------------------------------------------

THREE_MB = 3 * 1024 * 1024


@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_a_3_mb_body_is_a_plain_413(clinician, ready, signed_in, encoding):
    client = login(HttpsClient(), clinician) if signed_in else HttpsClient()
    url = (
        reverse("section", args=[ready.pk, "plan_and_monitoring"])
        if signed_in
        else reverse("login")
    )
    if encoding == "urlencoded":
        answer = client.post(
            url,
            "clinician_notes=" + "x" * THREE_MB,
            content_type="application/x-www-form-urlencoded",
        )
    else:
        answer = client.post(url, {"clinician_notes": "x" * THREE_MB})
    assert answer.status_code == 413
    assert "That request is too large" in answer.text
    assert "RequestDataTooBig" not in answer.text
    assert not Answer.objects.filter(item__key="clinician_notes", value__startswith="xxx").exists()
