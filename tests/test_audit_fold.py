"""No noise in the audit (issue 19 point 4): autosaves fold into one event per section,
person and ten minutes, without any event ever being changed; the auditor finds a case by
its clinic reference, kept out of the URL; the Detail column reads as words."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from checklists.audit import FOLD_WINDOW
from checklists.cases.drafts import save_section
from checklists.models import AuditEvent
from checklists.models.audit import AuditImmutableError

from .conftest import HttpsClient, login
from .factories import COMPLETE_ANSWERS, make_case, make_response

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
T0 = datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC)


def _autosave(client, response, section="individual_variability", **values):
    response.refresh_from_db(fields=["lock_version"])
    url = reverse("section", args=[response.pk, section])
    answer = client.post(url, {"lock_version": response.lock_version, **values}, **HX)
    assert answer.status_code == 200
    return answer


def _saves(response):
    return AuditEvent.objects.filter(action="section_saved", object_id=str(response.pk))


def test_autosaves_within_ten_minutes_fold_into_one_event(
    clinician_client, clinician, case, version
):
    response = make_response(case, clinician)
    with time_machine.travel(T0, tick=False) as clock:
        _autosave(clinician_client, response, pregnant="no")
        clock.shift(120)
        _autosave(clinician_client, response, pregnant="no", age_years="40")
        clock.shift(120)
        _autosave(clinician_client, response, pregnant="yes", age_years="40")
    (shown,) = _saves(response).in_trail()
    assert shown.detail["saves"] == 3
    assert shown.detail["changed"] == ["pregnant", "age_years"]
    assert shown.detail["section"] == "individual_variability"
    assert datetime.datetime.fromisoformat(shown.detail["since"]) == T0
    # Every save is still on record, unchanged: each later one supersedes the one before.
    rows = list(_saves(response).order_by("id"))
    assert [r.detail["saves"] for r in rows] == [1, 2, 3]
    assert [r.supersedes_id for r in rows] == [None, rows[0].pk, rows[1].pk]


def test_a_save_after_ten_minutes_another_section_or_person_opens_a_new_window(
    clinician_client, clinician, colleague, case, version
):
    response = make_response(case, clinician)
    other = login(HttpsClient(), colleague)
    with time_machine.travel(T0, tick=False) as clock:
        _autosave(clinician_client, response, pregnant="no")
        _autosave(other, response, pregnant="yes")  # another person
        _autosave(
            clinician_client, response, "legal_verification", jurisdiction="US-TX"
        )  # another section
        clock.shift(FOLD_WINDOW + datetime.timedelta(seconds=1))
        _autosave(clinician_client, response, pregnant="no")  # the window has closed
    shown = list(_saves(response).in_trail().order_by("id"))
    assert [(e.username, e.detail["section"], e.detail["saves"]) for e in shown] == [
        ("clinician", "individual_variability", 1),
        ("colleague", "individual_variability", 1),
        ("clinician", "legal_verification", 1),
        ("clinician", "individual_variability", 1),
    ]


def test_the_window_is_fixed_from_its_first_save(clinician_client, clinician, case, version):
    """Saves every four minutes: a window never covers more than ten minutes."""
    response = make_response(case, clinician)
    with time_machine.travel(T0, tick=False) as clock:
        for n in range(4):
            _autosave(clinician_client, response, age_years=str(40 + n))
            clock.shift(240)
    assert [e.detail["saves"] for e in _saves(response).in_trail().order_by("id")] == [3, 1]


def test_folding_never_changes_an_event(clinician_client, clinician, case, version):
    response = make_response(case, clinician)
    _autosave(clinician_client, response, pregnant="no")
    first = _saves(response).get()
    before = (first.at, first.detail)
    _autosave(clinician_client, response, pregnant="yes")
    first.refresh_from_db()
    assert (first.at, first.detail) == before
    with pytest.raises(AuditImmutableError):
        first.save()
    with pytest.raises(AuditImmutableError):
        _saves(response).update(detail={})


def test_the_audit_page_shows_one_event_per_window_in_words(
    clinician_client, clinician, auditor, case, version
):
    response = make_response(case, clinician)
    for age in ("40", "41", "42"):
        _autosave(clinician_client, response, age_years=age)
    page = login(HttpsClient(), auditor).get(reverse("audit"), {"action": "section_saved"})
    text = page.content.decode()
    assert page.context["page"].paginator.count == 1
    assert "Saves: 3" in text
    assert "Items changed: age years" in text
    assert "Section: individual variability" in text
    assert "{" not in text.split("<tbody>")[1].split("</tbody>")[0]  # no dict text


def test_detail_in_words():
    words = AuditEvent.detail_words(
        {"filters": {"user": "clinician"}, "by_admin": True, "changed": [], "page": 2}
    )
    assert (
        words == "Filters: (User clinician); By an administrator: yes; Items changed: none; Page: 2"
    )


def test_the_auditor_finds_a_case_by_its_clinic_reference(clinician, auditor, team, case, version):
    other = make_case(team, clinician, reference="MRN-2002")
    for target in (case, other):
        make_response(target, clinician)
    client = login(HttpsClient(), auditor)
    answer = client.post(reverse("audit"), {"q": "2002"})
    assert answer.status_code == 302
    assert "2002" not in answer["Location"]  # never in the URL
    page = client.get(answer["Location"])
    cases = {e.case_id for e in page.context["page"].object_list}
    assert cases == {other.pk}
    assert 'value="2002"' in page.content.decode()
    viewed = AuditEvent.objects.filter(action="audit_viewed").latest("id")
    assert "2002" not in str(viewed.detail)
    assert viewed.detail["filters"]["case_reference"] == "searched"
    # Cleared, every case again.
    client.post(reverse("audit"), {"q": ""})
    cases = {e.case_id for e in client.get(reverse("audit")).context["page"].object_list}
    assert {case.pk, other.pk} <= cases


def test_the_reference_search_stays_within_the_auditors_teams(
    auditor, outsider, other_team, version
):
    foreign = make_case(other_team, outsider, reference="MRN-9999")
    make_response(foreign, outsider)
    client = login(HttpsClient(), auditor)
    client.post(reverse("audit"), {"q": "9999"})
    page = client.get(reverse("audit"))
    assert page.context["page"].paginator.count == 0


def test_only_auditors_may_search(clinician_client):
    assert clinician_client.post(reverse("audit"), {"q": "1001"}).status_code == 403


def test_an_intake_with_an_autosave_per_answer_shows_one_event_per_section(
    clinician, case, version
):
    """The issue's count: an intake autosaved after every answer, 20 s apart, then saved
    by the button, section by section. Every save is still a row; the trail shows one
    event per section, counting its saves."""
    response = make_response(case, clinician)
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    saves = 0
    with time_machine.travel(T0, tick=False) as clock:
        for section in response.version.sections.order_by("position"):
            values = {}
            for key, value in [*COMPLETE_ANSWERS.get(section.key, {}).items(), (None, None)]:
                if key is not None:  # one autosave per answer, then the button
                    values[key] = value
                response.refresh_from_db(fields=["lock_version"])
                save_section(
                    response=response,
                    section=section,
                    values=dict(values),
                    lock_version=response.lock_version,
                    user=clinician,
                    confirm_carried=key is None,
                )
                saves += 1
                clock.shift(20)
    written = AuditEvent.objects.filter(pk__gt=last, action="section_saved")
    sections = response.version.sections.count()
    assert written.count() == saves > 2 * sections
    shown = written.in_trail()
    assert shown.count() == sections
    assert sum(e.detail["saves"] for e in shown) == saves


def test_the_admin_list_shows_a_folded_window_once_and_every_row_on_request(
    clinician_client, clinician, auditor, case, version
):
    response = make_response(case, clinician)
    with time_machine.travel(T0, tick=False) as clock:
        for age in ("40", "41", "42"):
            _autosave(clinician_client, response, age_years=age)
            clock.shift(60)
    auditor.is_staff = True
    auditor.save(update_fields=["is_staff"])
    client = login(HttpsClient(), auditor)
    url = "/admin/checklists/auditevent/"
    trail = client.get(url, {"action__exact": "section_saved"})
    assert trail.context["cl"].result_count == 1
    assert "As the trail shows them" in trail.content.decode()
    written = client.get(url, {"action__exact": "section_saved", "rows": "written"})
    assert written.context["cl"].result_count == 3
