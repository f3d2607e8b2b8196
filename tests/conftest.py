"""Personas: a clinician, a colleague on the same team, an outsider on another team, the
team's supervisor and auditor, content editors.

The test client speaks HTTPS, as production does (plain HTTP is redirected there), and a
persona logs in the way a person does: password (through django-axes, which needs the
request), then the second factor.
"""

import os

import pytest
from django.http import HttpRequest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from hypothesis import settings as hypothesis_settings

from checklists.roles import AUDITOR, SUPERVISOR, ensure_roles

from .factories import (
    PASSWORD,
    load_knowledge,
    make_case,
    make_team,
    make_totp_device,
    make_user,
    make_version,
    recovery_code,
)

# Generated examples per property test: a quick sample for `make test` at a desk, the full
# 200 in CI (.ci/run exports HYPOTHESIS_PROFILE=ci). No deadline in either: one example is a
# whole request, whose time on a shared machine says nothing about the code.
hypothesis_settings.register_profile("dev", max_examples=25, deadline=None)
hypothesis_settings.register_profile("ci", max_examples=200, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or "dev")


class HttpsClient(Client):
    """The Django test client, over HTTPS unless a test asks for plain HTTP."""

    def __init__(self, *args, https: bool = True, **kwargs):
        self.https = https
        super().__init__(*args, **kwargs)

    def generic(self, method, path, *args, secure=False, **kwargs):
        return super().generic(method, path, *args, secure=secure or self.https, **kwargs)


@pytest.fixture
def client():
    return HttpsClient()


@pytest.fixture
def admin_client(db, admin_user):
    """pytest-django's superuser client, over HTTPS and past the second factor."""
    client = HttpsClient()
    client.force_login(admin_user)
    verify_session(client, make_totp_device(admin_user))
    return client


# A flush re-creates content types and permissions with new ids (post_migrate), so groups
# and their permissions are not put back from the snapshot: make_user re-creates the roles
# (ensure_roles) when a flushed database lacks them.
POST_FLUSH_APPS = {"auth", "contenttypes"}


class _Snapshot:
    """Every row of every table, kept in memory, so that a flushed database can be put back
    with one bulk insert per table instead of loading the knowledge files again (which saves
    row by row, with history: about 7 s each time)."""

    rows: list[tuple[type, list]] = []

    @classmethod
    def take(cls) -> None:
        from django.apps import apps
        from django.core.serializers import sort_dependencies

        app_list = [(config, None) for config in apps.get_app_configs()]
        ordered = sort_dependencies(app_list, allow_cycles=True)
        through = [
            field.remote_field.through
            for model in ordered
            for field in model._meta.local_many_to_many
            if field.remote_field.through._meta.auto_created
        ]
        cls.rows = [
            (model, list(model._base_manager.all()))
            for model in [*ordered, *through]
            if model._meta.managed
            and not model._meta.proxy
            and model._meta.app_label not in POST_FLUSH_APPS
        ]

    @classmethod
    def restore(cls) -> None:
        for model, rows in cls.rows:
            if rows and not model._base_manager.exists():
                model._base_manager.bulk_create(rows)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The starter knowledge base (substances, names, rules) and the roles' groups, loaded
    once per test run."""
    with django_db_blocker.unblock():
        load_knowledge()
        ensure_roles()
        _Snapshot.take()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # PBKDF2's million rounds are right in production and pointless in tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def version(db):
    return make_version()


@pytest.fixture
def team(db):
    return make_team("North Clinic")


@pytest.fixture
def other_team(db):
    return make_team("South Clinic")


@pytest.fixture
def clinician(team):
    return make_user("clinician", teams=[team])


@pytest.fixture
def colleague(team):
    return make_user("colleague", teams=[team])


@pytest.fixture
def outsider(other_team):
    return make_user("outsider", teams=[other_team])


@pytest.fixture
def supervisor(team):
    """The team's supervisor (README, roles): reads its cases, returns signed checklists
    for amendment, exports them; writes no clinical data."""
    return make_user("supervisor", role=SUPERVISOR, teams=[team])


@pytest.fixture
def auditor(team):
    """The team's auditor (README, roles): the audit trail and the bulk export of the
    team's checklists; writes no clinical data."""
    return make_user("auditor", role=AUDITOR, teams=[team])


@pytest.fixture
def teamless_auditor(db):
    """An auditor on no team: sees none of the clinical trail until given a team
    (checklists/README.md, "Who sees which audit events")."""
    return make_user("inspector", role=AUDITOR)


@pytest.fixture
def staff_auditor(auditor):
    """The auditor with admin access (staff): the read-only audit list in the admin is then
    one of the pages an auditor's session reaches."""
    auditor.is_staff = True
    auditor.save(update_fields=["is_staff"])
    return auditor


@pytest.fixture
def case(team, clinician):
    return make_case(team, clinician, reference="MRN-1001")


def login(client, user, *, second_factor: bool = True):
    """Log `user` in on `client`: the password (django-axes' backend needs a request; the
    axes docs' own advice for tests is a blank HttpRequest), then, unless told not to,
    the second factor, as if a code from their authenticator app had been typed."""
    assert client.login(request=HttpRequest(), username=user.username, password=PASSWORD)
    if second_factor:
        verify_session(client, make_totp_device(user))
    return client


def verify_session(client, device):
    """Mark the client's session as verified by `device` (what the code page does)."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture
def clinician_client(client, clinician):
    return login(client, clinician)


@pytest.fixture
def outsider_client(client, outsider):
    return login(client, outsider)


@pytest.fixture
def supervisor_client(supervisor):
    # A client of its own, so a test can hold it beside clinician_client.
    return login(HttpsClient(), supervisor)


@pytest.fixture
def auditor_client(auditor):
    return login(HttpsClient(), auditor)


def sign_data(client, response, reason="advised_against", **extra):
    """The POST a clinician sends from the review page: password, attestation and a
    reason for each serious caution the page asks them to acknowledge."""
    from django.urls import reverse

    from checklists.forms import ack_field_prefix

    form = client.get(reverse("review", args=[response.pk])).context["form"]
    response.refresh_from_db(fields=["lock_version"])
    data = {"password": PASSWORD, "attest": "on", "lock_version": response.lock_version}
    if form.needs_code:
        # A fresh recovery code: always valid once, unlike an app code that would have to
        # wait for the next 30-second step after the one used at login.
        data["otp_token"] = recovery_code(form.user)
    for flag in form.ack_flags:
        data[f"{ack_field_prefix(flag.code)}_reason"] = reason
        data[f"{ack_field_prefix(flag.code)}_comment"] = ""
    return {**data, **extra}


@pytest.fixture
def editor(db):
    from .factories import make_editor

    return make_editor("editor")


@pytest.fixture
def second_editor(db):
    from .factories import make_editor

    return make_editor("second_editor")


@pytest.fixture
def editor_client(editor):
    """The editor, signed in past the second factor (the admin's content and knowledge)."""
    return login(HttpsClient(), editor)


@pytest.fixture
def reviewer_client(second_editor):
    """A second editor, who may approve what the first proposes."""
    return login(HttpsClient(), second_editor)


@pytest.fixture
def knowledge_reloaded_after_flush(django_db_blocker):
    """A transactional test (live server, real commits) ends with the database flushed, which
    empties the session-wide knowledge base; load it again for the tests that follow, in
    whatever order they run (pytest-xdist hands each worker its own order)."""
    yield
    with django_db_blocker.unblock():
        _Snapshot.restore()


def _flushes_database(item) -> bool:
    marker = item.get_closest_marker("django_db")
    transactional = marker is not None and marker.kwargs.get("transaction", False)
    fixtures = set(item.fixturenames)
    return transactional or bool(fixtures & {"transactional_db", "live_server"})


def pytest_collection_modifyitems(config, items):
    """Browser tests run first, and every test that flushes the database reloads the
    knowledge base after its flush (the fixture is set up first, so it is torn down after
    the flush): order no longer changes what a test sees.

    Longest first because pytest-xdist hands tests out in this order: with the browser
    tests (5 to 25 s each) at the end, one worker was left running them alone while the
    other had finished; at the start they spread over both workers."""
    for item in items:
        if "/e2e/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)
        if _flushes_database(item):
            item.fixturenames.insert(0, "knowledge_reloaded_after_flush")
    items.sort(key=lambda item: "e2e" not in item.keywords)
