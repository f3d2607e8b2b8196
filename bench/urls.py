"""The benchmark's pages, included by clinic/urls.py only when BENCH_ENDPOINTS=1."""

from django.urls import path

from . import views

urlpatterns = [
    path("_bench/fortunes", views.fortunes, name="bench_fortunes"),
    path("_bench/empty", views.empty_page, name="bench_empty"),
]
