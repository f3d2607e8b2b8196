"""Screens for a team's product lots and their certificates of analysis."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import audit
from ..access import NotClinician, can_add_lot, get_coa_for_user, get_lot_for_user, teams_for_user
from ..forms import COAForm, LotForm
from ..models import AuditEvent, LabLimit, Lot
from ..suppliers.lots import add_certificate, create_lot, record_refused_certificate


@login_required
@require_http_methods(["GET", "POST"])
def lot_list(request):
    teams = teams_for_user(request.user)
    form = LotForm(
        request.POST if request.method == "POST" else None,
        teams=teams,
        initial={"team": teams.first()},
    )
    if request.method == "POST" and not can_add_lot(request.user):
        raise NotClinician("Only clinicians can record lots and certificates.")
    if request.method == "POST" and form.is_valid():
        lot = create_lot(user=request.user, ip=audit.client_ip(request), **form.cleaned_data)
        messages.success(request, f"Lot {lot.lot_number} of {lot.product.name} recorded.")
        return redirect("lot_detail", lot_id=lot.pk)
    lots = Lot.objects.visible_to(request.user).select_related("product__supplier")
    return render(request, "checklists/lot_list.html", {"lots": lots, "form": form})


def _coa_form(lot, data=None, files=None) -> COAForm:
    limits = LabLimit.objects.filter(substance=lot.product.substance)
    return COAForm(data, files, limits=limits, initial={"coa_lot_number": lot.lot_number})


@login_required
@require_GET
def lot_detail(request, lot_id: int):
    lot = get_lot_for_user(request.user, lot_id)
    return render(
        request,
        "checklists/lot_detail.html",
        {
            "lot": lot,
            "certificates": lot.certificates.select_related("uploaded_by"),
            "form": _coa_form(lot),
        },
    )


@login_required
@require_POST
def coa_new(request, lot_id: int):
    lot = get_lot_for_user(request.user, lot_id, for_edit=True)
    form = _coa_form(lot, request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        add_certificate(
            user=request.user,
            lot=lot,
            lab_name=data["lab_name"],
            accreditation_id=data["accreditation_id"],
            tested_on=data["tested_on"],
            coa_lot_number=data["coa_lot_number"],
            results=form.results(),
            upload=data.get("pdf"),
            ip=audit.client_ip(request),
        )
        messages.success(request, "Certificate of analysis saved.")
        return redirect("lot_detail", lot_id=lot.pk)
    reason = form.refused_pdf_reason()
    if reason:
        record_refused_certificate(
            user=request.user,
            lot=lot,
            reason=reason,
            upload=request.FILES.get("pdf"),
            ip=audit.client_ip(request),
        )
    return render(
        request,
        "checklists/lot_detail.html",
        {
            "lot": lot,
            "certificates": lot.certificates.select_related("uploaded_by"),
            "form": form,
        },
        status=400,
    )


@login_required
@require_GET
def coa_download(request, coa_id: int):
    """The PDF, only to members of the owning team, as an attachment with nosniff."""
    coa = get_coa_for_user(request.user, coa_id)
    if not coa.pdf:
        raise Http404("No PDF was uploaded for this certificate.")
    audit.record(
        AuditEvent.Action.COA_DOWNLOADED, user=request.user, obj=coa, ip=audit.client_ip(request)
    )
    response = FileResponse(
        coa.pdf.open("rb"),
        as_attachment=True,
        filename=f"coa-{coa.pk}.pdf",
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
