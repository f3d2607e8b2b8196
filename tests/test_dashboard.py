"""The team dashboard (issue 20, point 4): supervisors and auditors see their teams'
figures as charts, tables and CSVs; nobody else does, and no team sees another's."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from checklists.models import PatientCase, Severity

from .factories import make_bulk_responses, make_case, make_lot_with_certificate, make_version

pytestmark = pytest.mark.django_db

FLAGS = [
    {
        "code": "problem:cns-depression",
        "category": "interaction",
        "severity": "major",
        "title": "Oxycodone + kratom: added CNS depression",
    },
    {
        "code": "problem:legal-status",
        "category": "legal",
        "severity": "moderate",
        "title": "Law not checked",
    },
]


@pytest.fixture
def figures(settings, tmp_path, team, other_team, clinician, outsider):
    """Three signed checklists and an overdue case on the team, one of each on the other."""
    settings.MEDIA_ROOT = tmp_path
    version = make_version()
    make_bulk_responses(team, clinician, version, 3, flags=FLAGS)
    make_bulk_responses(other_team, outsider, version, 1, flags=FLAGS)
    late = make_case(team, clinician, reference="LATE")
    PatientCase.objects.filter(pk=late.pk).update(
        follow_up_due=timezone.localdate() - datetime.timedelta(days=10)
    )
    make_lot_with_certificate(team, clinician)


def _chart(page, key):
    return next(c for c in page.context["charts"] if c.key == key)


def test_the_supervisor_sees_the_team_figures(supervisor_client, figures):
    page = supervisor_client.get(reverse("dashboard"))
    assert page.status_code == 200
    assert _chart(page, "signed-per-week").rows[-1][1] == 3
    assert dict(_chart(page, "problems").rows) == {"interaction, major": 3, "legal, moderate": 3}
    assert dict(_chart(page, "certificates").rows) == {
        "With a certificate for a lot": 1,
        "Without one": 0,
    }
    assert dict(_chart(page, "overdue").rows)["8 to 30 days"] == 1
    text = page.content.decode()
    # A drawing for the eye, a table for everyone, no script and no outside address.
    assert text.count("<svg") == 4 and text.count("<table") == 4
    assert "http://" not in text.split("<svg", 1)[1].split("</svg>")[0]


def test_the_auditor_sees_it_too(auditor_client, figures):
    assert auditor_client.get(reverse("dashboard")).status_code == 200


@pytest.mark.parametrize("persona", ["clinician_client", "outsider_client"])
def test_clinicians_are_refused(request, persona, figures):
    answer = request.getfixturevalue(persona).get(reverse("dashboard"))
    assert answer.status_code == 403
    assert "supervisors and auditors" in answer.content.decode()


def test_each_chart_downloads_as_csv(supervisor_client, figures):
    answer = supervisor_client.get(reverse("dashboard_csv", args=["problems"]))
    assert answer["Content-Type"].startswith("text/csv")
    assert "attachment" in answer["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.content.decode())))
    assert rows[0] == ["Kind, severity", "Problems"]
    assert ["interaction, major", "3"] in rows


def test_an_unknown_chart_is_not_found(supervisor_client):
    assert supervisor_client.get(reverse("dashboard_csv", args=["nothing"])).status_code == 404


def test_the_navigation_offers_the_dashboard_only_to_those_who_may_open_it(
    supervisor_client, clinician_client
):
    assert reverse("dashboard") in supervisor_client.get(reverse("case_list")).content.decode()
    assert reverse("dashboard") not in clinician_client.get(reverse("case_list")).content.decode()


def test_the_problems_chart_reads_the_latest_checklists_only(
    supervisor_client, figures, monkeypatch
):
    """Its cost stays bounded however many a team signs (dashboard.PROBLEMS_SAMPLE)."""
    from checklists.followups import dashboard

    monkeypatch.setattr(dashboard, "PROBLEMS_SAMPLE", 2)
    page = supervisor_client.get(reverse("dashboard"))
    assert dict(_chart(page, "problems").rows) == {"interaction, major": 2, "legal, moderate": 2}


def test_a_severity_no_longer_known_is_counted_last_not_refused(supervisor_client, team, clinician):
    """A checklist signed by an earlier version of the app may have frozen a severity this
    one does not know: the problems chart still draws, and lists it after the known ones."""
    version = make_version()
    old = [{**FLAGS[0], "severity": "grave"}, {**FLAGS[0], "code": "problem:other"}]
    make_bulk_responses(team, clinician, version, 1, flags=old)
    page = supervisor_client.get(reverse("dashboard"))
    assert page.status_code == 200
    assert _chart(page, "problems").rows == [("interaction, major", 1), ("interaction, grave", 1)]
    assert Severity.rank("grave") == len(Severity.values) > Severity.rank("info")
