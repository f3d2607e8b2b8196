"""Two gunicorn instances against one PostgreSQL: concurrent saves, nothing lost.

    python bench/two_instances.py [--database-url postgres://...] [--ports 8751 8752]

Starts two gunicorn servers (gthread) on 127.0.0.1 with the same settings and database,
logs in once through instance A, and checks the session is valid on B too (sessions are
in the database, nothing is kept in a process). Then 8 threads save sections
concurrently, each on its own draft, alternating A and B on every save (20 saves each),
and two more threads race on one shared draft through A and B (20 rounds: the loser
gets the conflict page, never a silent overwrite). Bounded: 200 saves, 120 s.

Afterwards the database must hold, for every owned draft, the value of its last save,
one section_saved audit event per successful save, and a lock version bumped once per
save. Exit status 0 when all of that holds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _serve  # noqa: E402

WRITERS, SAVES, RACE_ROUNDS, DEADLINE_S = 8, 20, 20, 120
SECTION, ITEM = "plan_and_monitoring", "clinician_notes"  # free text: every save unique


def check(response_ids: list[int]) -> dict:
    from checklists.models import Answer, AuditEvent, ChecklistResponse

    out = {}
    for pk in response_ids:
        answer = Answer.objects.filter(response_id=pk, item__key=ITEM).first()
        out[pk] = {
            "value": answer.value if answer else None,
            "lock_version": ChecklistResponse.objects.get(pk=pk).lock_version,
            "saves": AuditEvent.objects.filter(action="section_saved", object_id=str(pk)).count(),
        }
    return out


def save(client: _serve.Client, response_id: int, age: int) -> int:
    path = f"/responses/{response_id}/sections/{SECTION}/"
    status, page = client.get(path)
    if status != 200:
        return status
    data = {
        "csrfmiddlewaretoken": _serve.form_value(page, "csrfmiddlewaretoken"),
        "lock_version": _serve.form_value(page, "lock_version"),
        ITEM: f"note {age}",
    }
    return client.post(path, data)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--ports", type=int, nargs=2, default=[8751, 8752])
    parser.add_argument("--phase", choices=["all", "setup", "check"], default="all")
    parser.add_argument("--ids", default="")
    args = parser.parse_args()
    if args.phase != "all":
        _serve.setup_django()
        if args.phase == "setup":
            print(json.dumps(_serve.prepare(WRITERS + 1)))
        else:
            print(json.dumps(check([int(i) for i in args.ids.split(",")])))
        return

    url = args.database_url or _serve.DEFAULT_PG
    _serve.ensure_database(url)
    env = _serve.server_env(url)
    prepared = _serve.django_phase(__file__, "setup", env)
    ids = prepared["responses"]
    owned, shared = ids[:WRITERS], ids[WRITERS]
    servers = [_serve.start_gunicorn(port, env) for port in args.ports]
    failures, lock = [], threading.Lock()
    results = {pk: [] for pk in owned}
    race = {"won": 0, "conflict": 0, "other": []}
    deadline = time.monotonic() + DEADLINE_S
    try:
        a = _serve.Client(args.ports[0])
        a.login(prepared["totp_key"])
        b = _serve.Client(args.ports[1], a.cookies)
        session_ok = a.get("/cases/")[0] == 200 and b.get("/cases/")[0] == 200
        print(f"one login through A, session valid on A and B: {session_ok}")
        print(f"cookies (production names over HTTPS): {', '.join(sorted(a.cookies))}")

        def writer(n: int) -> None:
            clients = [_serve.Client(p, a.cookies) for p in args.ports]
            for k in range(SAVES):
                if time.monotonic() > deadline:
                    return
                age = 100 * n + k + 1
                status = save(clients[k % 2], owned[n], age)
                with lock:
                    if status == 302:
                        results[owned[n]].append(f"note {age}")
                    else:
                        failures.append((owned[n], k, status))

        def racer(n: int) -> None:
            client = _serve.Client(args.ports[n], a.cookies)
            for k in range(RACE_ROUNDS):
                if time.monotonic() > deadline:
                    return
                status = save(client, shared, 1000 + 10 * k + n)
                with lock:
                    if status == 302:
                        race["won"] += 1
                    elif status == 409:
                        race["conflict"] += 1
                    else:
                        race["other"].append(status)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
        threads += [threading.Thread(target=racer, args=(n,)) for n in range(2)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        session_still = b.get("/cases/")[0] == 200 and a.get("/cases/")[0] == 200
    finally:
        for server in servers:
            _serve.stop(server)

    stored = _serve.django_phase(__file__, "check", env, "--ids", ",".join(map(str, ids)))
    lost = []
    for pk in owned:
        got = stored[str(pk)]
        saved = results[pk]
        if got["value"] != saved[-1] or got["saves"] != len(saved):
            lost.append((pk, saved[-1:], got))
        if got["lock_version"] != len(saved):
            lost.append((pk, "lock_version", got["lock_version"], len(saved)))
    shared_row = stored[str(shared)]
    total = sum(len(v) for v in results.values())
    print(f"{total} saves by {WRITERS} writers alternating A/B in {elapsed:.1f} s")
    print(f"saves refused: {failures or 'none'}")
    print(
        f"race on one draft through A and B: {race['won']} saved, {race['conflict']} conflict "
        f"pages, other {race['other']}; audit saves {shared_row['saves']}, "
        f"lock version {shared_row['lock_version']}"
    )
    race_ok = (
        not race["other"]
        and shared_row["saves"] == race["won"]
        and shared_row["lock_version"] == race["won"]
    )
    print(f"sessions still valid on both after the run: {session_still}")
    print(f"lost or mismatched: {lost or 'none'}")
    passed = session_ok and session_still and not failures and not lost and race_ok
    print("two instances:", "PASS" if passed else "FAIL")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
