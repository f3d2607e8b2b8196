from django.urls import path

from .views import (
    amendments,
    audit,
    cases,
    dashboard,
    exports,
    followups,
    lots,
    responses,
    system,
)

urlpatterns = [
    path("healthz", system.healthz, name="healthz"),
    path("favicon.ico", system.favicon, name="favicon"),
    path("cases/", cases.case_list, name="case_list"),
    path("cases/new/", cases.case_new, name="case_new"),
    path("cases/<int:case_id>/", cases.case_detail, name="case_detail"),
    path("cases/<int:case_id>/edit/", cases.case_edit, name="case_edit"),
    path("cases/<int:case_id>/checklists/new/", cases.checklist_start, name="checklist_start"),
    path("responses/<int:response_id>/", responses.response_detail, name="response_detail"),
    path(
        "responses/<int:response_id>/sections/<slug:section_key>/",
        responses.section,
        name="section",
    ),
    path("responses/<int:response_id>/review/", responses.review, name="review"),
    path("responses/<int:response_id>/sign/", responses.sign, name="sign"),
    path("responses/<int:response_id>/amend/", amendments.amend, name="amend"),
    path(
        "responses/<int:response_id>/return/",
        amendments.return_for_amendment,
        name="return_for_amendment",
    ),
    path("audit/", audit.audit_trail, name="audit"),
    path("follow-ups/", followups.follow_up_list, name="follow_up_list"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/<slug:chart>.csv", dashboard.chart_csv, name="dashboard_csv"),
    path("lots/", lots.lot_list, name="lot_list"),
    path("lots/<int:lot_id>/", lots.lot_detail, name="lot_detail"),
    path("lots/<int:lot_id>/coas/new/", lots.coa_new, name="coa_new"),
    path("coas/<int:coa_id>/pdf", lots.coa_download, name="coa_download"),
    path("responses/<int:response_id>/note.txt", exports.note_txt, name="export_note_txt"),
    path("responses/<int:response_id>/note.pdf", exports.note_pdf, name="export_note_pdf"),
    path("responses/<int:response_id>/print/", exports.print_view, name="export_print"),
    path("responses/<int:response_id>/fhir.json", exports.fhir_json, name="export_fhir"),
    path("exports/responses.csv", exports.responses_csv, name="export_responses_csv"),
    path(
        "responses/<int:response_id>/changes/", responses.version_changes, name="response_changes"
    ),
    path("responses/<int:response_id>/restart/", responses.restart, name="response_restart"),
]
