"""Personas: a clinician, a colleague on the same team, an outsider on another team."""

import pytest

from .factories import PASSWORD, make_case, make_team, make_user, make_version


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
