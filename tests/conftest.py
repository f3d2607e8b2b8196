"""Personas: a clinician, a colleague on the same team, an outsider on another team."""

import pytest

from .factories import PASSWORD, load_knowledge, make_case, make_team, make_user, make_version


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The starter knowledge base (substances, names, rules), loaded once per test run."""
    with django_db_blocker.unblock():
        load_knowledge()


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
def case(team, clinician):
    return make_case(team, clinician, reference="MRN-1001")


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def clinician_client(client, clinician):
    return login(client, clinician)


@pytest.fixture
def outsider_client(client, outsider):
    return login(client, outsider)


def sign_data(client, response, reason="advised_against", **extra):
    """The POST a clinician sends from the review page: password, attestation and a
    reason for each serious caution the page asks them to acknowledge."""
    from django.urls import reverse

    from checklists.forms import ack_field_prefix

    form = client.get(reverse("review", args=[response.pk])).context["form"]
    response.refresh_from_db(fields=["lock_version"])
    data = {"password": PASSWORD, "attest": "on", "lock_version": response.lock_version}
    for flag in form.ack_flags:
        data[f"{ack_field_prefix(flag.code)}_reason"] = reason
        data[f"{ack_field_prefix(flag.code)}_comment"] = ""
    return {**data, **extra}


def pytest_collection_modifyitems(config, items):
    """Browser tests run last: live_server flushes the database after each one, which would
    empty the session-wide knowledge base for any ordinary test that came after."""
    for item in items:
        if "/e2e/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)
    items.sort(key=lambda item: "e2e" in item.keywords)
