"""The benchmark's reference page, mounted only when BENCH_ENDPOINTS=1 (never in production):
bench/urls.py mounts these views and clinic/urls.py includes it only then.

TechEmpower's "fortunes" test: one query for a dozen rows, one row added in memory, sorted,
rendered through the template engine with escaping. Pages are measured against it in the
same process (bench/bench.py), so the ratio cancels out the machine's speed and noise.
It reads 12 rows of an existing table (the cited sources) instead of adding a model.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.template import engines

from checklists.models import Source

TEMPLATE = engines["django"].from_string(
    "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
    "<tr><th>id</th><th>message</th></tr>"
    "{% for id, message in rows %}<tr><td>{{ id }}</td><td>{{ message }}</td></tr>{% endfor %}"
    "</table></body></html>"
)


def fortunes(request):
    rows = list(Source.objects.order_by("pk").values_list("pk", "title")[:12])
    rows.append((0, "Additional fortune added at request time."))
    rows.sort(key=lambda row: row[1])
    return HttpResponse(TEMPLATE.render({"rows": rows}))


@login_required
def empty_page(request):
    """This app's cheapest possible page: the session, the user, the navigation's
    permission check and base.html, with no content. What any of our pages costs before it
    does its own work; the benchmark shows its ratio as the ceiling the others can reach."""
    return render(request, "base.html")
