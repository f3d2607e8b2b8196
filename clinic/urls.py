from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

handler403 = "checklists.refusals.forbidden"
handler500 = "checklists.views.system.server_error"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="case_list", permanent=False)),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("", include("checklists.urls")),
]

if settings.BENCH_ENDPOINTS:  # benchmarks only, refused outside loopback (settings.py)
    urlpatterns.insert(0, path("", include("bench.urls")))
