"""Autosave: htmx posts the whole section on every change and gets a small partial back."""

import re

import pytest
from django.urls import reverse

from checklists.models import Answer

from .conftest import HttpsClient, login
from .factories import make_response
from .test_routes import PERSONAS, ROUTES, outcome, world  # noqa: F401 (world: a fixture)

HX = {"HTTP_HX_REQUEST": "true"}


def _url(response, key="medication_interactions"):
    return reverse("section", args=[response.pk, key])


def test_autosave_saves_like_a_submit_and_returns_the_new_lock_version(
    clinician_client, clinician, case, version
):
    response = make_response(case, clinician)
    data = {
        "lock_version": response.lock_version,
        "substances_in_use": ["kratom"],
        "current_medications-0-name": "oxycodone",
    }
    reply = clinician_client.post(_url(response), data, **HX)

    assert reply.status_code == 200
    body = reply.content.decode()
    assert "Saved at" in body
    response.refresh_from_db()
    assert re.search(
        rf'name="lock_version" value="{response.lock_version}"[^>]*hx-swap-oob="true"', body
    )
    # The medication list's matches and the cautions come back for the page, out of band.
    assert 'id="medication-matches" hx-swap-oob="true"' in body
    assert "oxycodone" in body.lower()
    assert 'id="live-flags" hx-swap-oob="true"' in body
    assert Answer.objects.get(response=response, item__key="substances_in_use").value == ["kratom"]


def test_stale_autosave_shows_the_conflict_and_overwrites_nothing(
    clinician_client, clinician, case, version
):
    response = make_response(case, clinician)
    stale = response.lock_version
    clinician_client.post(
        _url(response), {"lock_version": stale, "substances_in_use": ["melatonin"]}, **HX
    )
    reply = clinician_client.post(
        _url(response), {"lock_version": stale, "substances_in_use": ["kratom"]}, **HX
    )
    body = reply.content.decode()
    assert "Not saved" in body and "saved from another page or by another person" in body
    assert "hx-swap-oob" not in body
    saved = Answer.objects.get(response=response, item__key="substances_in_use")
    assert saved.value == ["melatonin"]


def test_invalid_autosave_says_so_and_saves_nothing(clinician_client, clinician, case, version):
    response = make_response(case, clinician)
    reply = clinician_client.post(
        _url(response, "legal_verification"),
        {"lock_version": response.lock_version, "jurisdiction": "Atlantis"},
        **HX,
    )
    assert "Not saved yet" in reply.content.decode()
    assert not Answer.objects.filter(response=response).exists()


def test_without_javascript_the_submit_still_saves_and_redirects(
    clinician_client, clinician, case, version
):
    response = make_response(case, clinician)
    reply = clinician_client.post(
        _url(response),
        {"lock_version": response.lock_version, "substances_in_use": ["kratom"], "stay": ""},
    )
    assert reply.status_code == 302
    assert Answer.objects.filter(response=response, item__key="substances_in_use").exists()


def test_section_page_wires_the_autosave(clinician_client, clinician, case, version):
    response = make_response(case, clinician)
    page = clinician_client.get(_url(response)).content.decode()
    assert 'hx-trigger="change"' in page and 'id="autosave-status"' in page
    assert "vendor/htmx/htmx.min" in page


@pytest.mark.django_db
def test_an_autosave_is_guarded_like_the_section_post_it_is(world):  # noqa: F811
    """The autosave is the section's own POST with an htmx header: each persona gets what
    tests/test_routes.py pins for that POST, and nobody but the team's clinician saves."""
    users, kwargs = world
    url = reverse("section", kwargs={k: kwargs[k] for k in ("response_id", "section_key")})
    got = []
    for persona in PERSONAS:
        client = HttpsClient() if persona == "anonymous" else login(HttpsClient(), users[persona])
        got.append(outcome(client.post(url, {"lock_version": 0}, **HX)))
    assert tuple(got) == ROUTES["section"]["POST"]
    assert Answer.objects.filter(response_id=kwargs["response_id"]).count() == 0
