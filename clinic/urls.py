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
    from . import bench_views

    urlpatterns[:0] = [
        path("_bench/fortunes", bench_views.fortunes, name="bench_fortunes"),
        path("_bench/empty", bench_views.empty_page, name="bench_empty"),
    ]
