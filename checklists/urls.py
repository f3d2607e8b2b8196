from django.urls import path

from .views import cases, responses, system

urlpatterns = [
    path("healthz", system.healthz, name="healthz"),
    path("cases/", cases.case_list, name="case_list"),
    path("cases/new/", cases.case_new, name="case_new"),
    path("cases/<int:case_id>/", cases.case_detail, name="case_detail"),
    path("cases/<int:case_id>/checklists/new/", cases.checklist_start, name="checklist_start"),
    path("responses/<int:response_id>/", responses.response_detail, name="response_detail"),
    path(
        "responses/<int:response_id>/sections/<slug:section_key>/",
        responses.section,
        name="section",
    ),
    path("responses/<int:response_id>/review/", responses.review, name="review"),
    path("responses/<int:response_id>/sign/", responses.sign, name="sign"),
    path(
        "responses/<int:response_id>/changes/", responses.version_changes, name="response_changes"
    ),
    path("responses/<int:response_id>/restart/", responses.restart, name="response_restart"),
]
