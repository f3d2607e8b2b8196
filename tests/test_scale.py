"""Scale and concurrency: SQLite under several writers, and the bulk demo seed."""

import threading

import pytest
from django.db import close_old_connections, connection

from checklists import services
from checklists.models import Answer, AuditEvent

from .factories import load_knowledge, make_case, make_response, make_team, make_user


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_writers_never_see_database_is_locked(version):
    """8 threads each save their own draft 10 times through services, all at once: on a
    file SQLite database (WAL, IMMEDIATE) they queue instead of failing."""
    load_knowledge()
    team = make_team()
    users = [make_user(f"writer{n}", teams=[team]) for n in range(8)]
    responses = [make_response(make_case(team, u), u) for u in users]
    section = responses[0].version.sections.get(key="individual_variability")
    barrier = threading.Barrier(8)
    errors = []

    def write(n):
        try:
            barrier.wait()
            response = responses[n]
            for round_number in range(10):
                response.refresh_from_db(fields=["lock_version"])
                services.save_section(
                    response=response,
                    section=section,
                    user=users[n],
                    values={"age_years": round_number + 20},
                    lock_version=response.lock_version,
                )
        except Exception as error:  # collected and asserted below
            errors.append(repr(error))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert connection.vendor in ("sqlite", "postgresql")
    ages = Answer.objects.filter(item__key="age_years", response__in=responses)
    assert sorted(a.value for a in ages) == [29] * 8
    assert AuditEvent.objects.filter(action="section_saved").count() == 80
