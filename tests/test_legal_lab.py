"""Legal verification and supplier lab testing: tables of cases, uploads and access."""

import datetime
import io
from urllib.parse import quote

import pytest
from django.urls import reverse
from pypdf import PdfWriter

from checklists import screening
from checklists.models import CertificateOfAnalysis, Jurisdiction, LegalStatus, Lot

from .conftest import HttpsClient, login
from .factories import make_response

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 11, 22)


def flags(intake, today=DAY):
    """Every rule hit, by code and its own severity (each is a problem's contributor)."""
    result = screening.screen(screening.parse_intake(intake, today=today))
    return {c.code: c.severity for flag in result.flags for c in flag.contributors}


def test_the_legal_table_covers_every_state_dc_and_the_listed_places():
    states = Jurisdiction.objects.filter(kind="state", code__startswith="US-")
    assert states.count() == 51 and states.filter(code="US-DC").exists()
    assert set(Jurisdiction.objects.filter(kind="country").values_list("code", flat=True)) >= {
        "US",
        "TH",
        "AU",
        "MY",
        "GB",
    }
    assert Jurisdiction.objects.get(code="US-CA-SAN-DIEGO").parent.code == "US-CA"
    ban = LegalStatus.objects.get(jurisdiction__code="US-LA", substance="kratom", status="banned")
    assert ban.effective_from == datetime.date(2025, 8, 1)
    for state in states:
        assert state.legal_statuses.filter(substance="kratom").exists(), state.code


LEGAL_CASES = [
    # Louisiana the day before and the day of the ban.
    ({"on": "2025-07-31", "jurisdiction": "US-LA"}, {}, ["legal:banned:US-LA:kratom"]),
    (
        {"on": "2025-08-01", "jurisdiction": "US-LA"},
        {"legal:banned:US-LA:kratom": "contraindicated"},
        [],
    ),
    ({"jurisdiction": "US-AL"}, {"legal:banned:US-AL:kratom": "contraindicated"}, []),
    ({"jurisdiction": "us-wi"}, {"legal:banned:US-WI:kratom": "contraindicated"}, []),
    # A locality ban under a state that allows it.
    (
        {"jurisdiction": "US-CA-SAN-DIEGO", "age_years": 40},
        {"legal:banned:US-CA-SAN-DIEGO:kratom": "contraindicated"},
        ["legal:banned:US-CA:kratom"],
    ),
    ({"jurisdiction": "US-CA", "age_years": 40}, {}, ["legal:banned:US-CA-SAN-DIEGO:kratom"]),
    # A minimum-age state (Utah Code 4-45-105: 18).
    (
        {"jurisdiction": "US-UT", "age_years": 17},
        {"legal:under-minimum-age:US-UT:kratom": "major"},
        [],
    ),
    ({"jurisdiction": "US-UT", "age_years": 25}, {}, ["legal:under-minimum-age:US-UT:kratom"]),
    # Rhode Island: banned until its licensing law starts on 2026-04-01.
    (
        {"on": "2026-03-31", "jurisdiction": "US-RI"},
        {"legal:banned:US-RI:kratom": "contraindicated"},
        [],
    ),
    (
        {"on": "2026-04-01", "jurisdiction": "US-RI", "age_years": 30},
        {},
        ["legal:banned:US-RI:kratom"],
    ),
    # Unclear and unknown places need the clinician's own check.
    ({"jurisdiction": "US-MO"}, {"legal:unverified:US-MO:kratom": "major"}, []),
    ({"jurisdiction": "US-ZZ"}, {"legal:unverified:US-ZZ:kratom": "major"}, []),
]


@pytest.mark.parametrize("intake,expected,absent", LEGAL_CASES)
def test_legal_cases(intake, expected, absent):
    got = flags({"substances": ["kratom"], **intake})
    for code, severity in expected.items():
        assert got.get(code) == severity, (code, got)
    for code in absent:
        assert code not in got


class TestStaleEntries:
    """Arizona (18+) rests on secondary sources dated long before the checklist; Texas, checked
    against its statute on 2026-11-30, shows a fresh row and the setting."""

    def test_stale_without_own_check_is_major(self):
        assert (
            flags({"substances": ["kratom"], "jurisdiction": "US-AZ", "age_years": 30})[
                "legal:unverified:US-AZ:kratom"
            ]
            == "major"
        )

    def test_own_recent_check_clears_it_and_is_recorded(self):
        got = flags(
            {
                "substances": ["kratom"],
                "jurisdiction": "US-AZ",
                "age_years": 30,
                "legal_check": {"consulted": "A.R.S. 36-795", "on": "2026-11-20"},
            }
        )
        assert "legal:unverified:US-AZ:kratom" not in got
        assert got["legal:clinician-verified:US-AZ:kratom"] == "info"

    def test_an_old_own_check_does_not_count(self):
        got = flags(
            {
                "substances": ["kratom"],
                "jurisdiction": "US-AZ",
                "age_years": 30,
                "legal_check": {"consulted": "A.R.S. 36-795", "on": "2026-01-02"},
            }
        )
        assert got["legal:unverified:US-AZ:kratom"] == "major"

    def test_a_freshly_verified_row_needs_no_check(self, settings):
        LegalStatus.objects.filter(jurisdiction__code__in=["US-TX", "US"]).update(verified_on=DAY)
        got = flags({"substances": ["kratom"], "jurisdiction": "US-TX", "age_years": 30})
        assert "legal:unverified:US-TX:kratom" not in got
        assert got["legal:rules:US-TX:kratom"] == "info"

    def test_the_stale_window_is_a_setting(self, settings):
        LegalStatus.objects.filter(jurisdiction__code="US-TX").update(
            verified_on=DAY - datetime.timedelta(days=100)
        )
        assert "legal:unverified:US-TX:kratom" in flags(
            {"substances": ["kratom"], "jurisdiction": "US-TX", "age_years": 30}
        )
        settings.LEGAL_STALE_DAYS = 120
        assert "legal:unverified:US-TX:kratom" not in flags(
            {"substances": ["kratom"], "jurisdiction": "US-TX", "age_years": 30}
        )


CLEAN_RESULTS = {
    "mitragynine_pct": 1.2,
    "seven_oh_pct_of_alkaloids": 0.5,
    "lead_ppm": 0.2,
    "arsenic_ppm": 0.1,
    "cadmium_ppm": 0.1,
    "mercury_ppm": 0.01,
    "nickel_ppm": 0.3,
    "salmonella": "absent",
    "e_coli": "absent",
    "total_aerobic_cfu_g": 1000,
    "yeast_mold_cfu_g": 100,
    # The adulterant panel (issue 17), each absent.
    "o_desmethyltramadol": "absent",
    "hydrocodone": "absent",
    "fentanyl": "absent",
    "benzodiazepines": "absent",
    "mitragynine_pseudoindoxyl": "absent",
    "mgm_15": "absent",
    "mgm_16": "absent",
}


def kratom_product(**changes):
    coa = {
        "lot": "K-100",
        "tested_on": "2026-06-01",
        "lab_accredited": True,
        "results": dict(CLEAN_RESULTS),
    }
    coa.update(changes.pop("coa", {}))
    coa["results"].update(changes.pop("results", {}))
    return {
        "substance": "kratom",
        "form": "leaf_powder",
        "label_lot": "K-100",
        "daily_amount_g": 5,
        "coa": coa,
        **changes,
    }


def lab(product):
    return {
        code: severity
        for code, severity in flags(
            {"substances": ["kratom", "melatonin"], "products": [product]}
        ).items()
        if code.startswith("lab:")
    }


COA_CASES = [
    (kratom_product(), {}),
    (
        {"substance": "kratom", "form": "leaf_powder", "label_lot": "K-100"},
        {"lab:K-100:no-coa": "major"},
    ),
    (kratom_product(coa={"lot": "K-101"}), {"lab:K-100:lot-mismatch": "major"}),
    (kratom_product(coa={"lot": " k-100 "}), {}),
    (kratom_product(coa={"tested_on": "2025-11-01"}), {"lab:K-100:coa-old": "moderate"}),
    (kratom_product(coa={"lab_accredited": False}), {"lab:K-100:lab-not-accredited": "moderate"}),
    # Over Utah's concentration limit, and (× 5 g a day) over USP <2232>'s 5 µg a day too.
    (
        kratom_product(results={"lead_ppm": 1.3}),
        {"lab:K-100:lead_ppm": "contraindicated", "lab:K-100:lead_ppm:daily": "contraindicated"},
    ),
    (
        kratom_product(results={"lead_ppm": 1.2}),
        {"lab:K-100:lead_ppm": "contraindicated", "lab:K-100:lead_ppm:daily": "contraindicated"},
    ),
    (kratom_product(results={"arsenic_ppm": 2.5}), {"lab:K-100:arsenic_ppm": "contraindicated"}),
    (kratom_product(results={"cadmium_ppm": 0.9}), {"lab:K-100:cadmium_ppm": "contraindicated"}),
    (kratom_product(results={"mercury_ppm": 0.5}), {"lab:K-100:mercury_ppm": "contraindicated"}),
    (
        kratom_product(results={"total_aerobic_cfu_g": 20_000_000}),
        {"lab:K-100:total_aerobic_cfu_g": "contraindicated"},
    ),
    (
        kratom_product(results={"yeast_mold_cfu_g": 100_001}),
        {"lab:K-100:yeast_mold_cfu_g": "contraindicated"},
    ),
    (
        kratom_product(results={"salmonella": "detected"}),
        {"lab:K-100:salmonella": "contraindicated"},
    ),
    (kratom_product(results={"e_coli": "Detected"}), {"lab:K-100:e_coli": "contraindicated"}),
    (
        kratom_product(results={"seven_oh_pct_of_alkaloids": 3.5}),
        {"lab:K-100:seven_oh_pct_of_alkaloids": "contraindicated"},
    ),
    (kratom_product(form="concentrated_7oh"), {"lab:K-100:concentrated-7oh": "contraindicated"}),
    (kratom_product(results={"nickel_ppm": None}), {"lab:K-100:missing:nickel_ppm": "moderate"}),
    (
        {
            "substance": "melatonin",
            "form": "tablet",
            "label_lot": "M-1",
            "label_amount_mg": 5,
            "coa": {
                "lot": "M-1",
                "tested_on": "2026-06-01",
                "lab_accredited": True,
                "results": {"melatonin_mg_measured": 5.4, "serotonin": "absent", "cbd": "absent"},
            },
        },
        {},
    ),
    (
        {
            "substance": "melatonin",
            "form": "gummy",
            "label_lot": "M-1",
            "label_amount_mg": 5,
            "coa": {
                "lot": "M-1",
                "tested_on": "2026-06-01",
                "lab_accredited": True,
                "results": {"melatonin_mg_measured": 8, "serotonin": "absent", "cbd": "absent"},
            },
        },
        {"lab:M-1:melatonin_mg_measured": "moderate"},
    ),
]


@pytest.mark.parametrize("product,expected", COA_CASES)
def test_coa_cases(product, expected):
    if product.get("coa") and product["coa"].get("results", {}).get("nickel_ppm", 0) is None:
        del product["coa"]["results"]["nickel_ppm"]
    assert lab(product) == expected


def test_screen_command_checks_the_designs_example_intake(capsys):
    import json as _json

    from django.core.management import call_command

    intake = {
        "on": "2026-11-22",
        "substances": ["kratom", "melatonin"],
        "medications": ["oxycodone 5 mg", "Luvox 100 mg"],
        "age_years": 16,
        "factors": ["pregnant"],
        "jurisdiction": "US-AL",
        "products": [
            {
                "substance": "kratom",
                "form": "extract",
                "label_lot": "K-100",
                "label_amount_mg": 5,
                "coa": {
                    "lot": "K-101",
                    "tested_on": "2024-01-10",
                    "lab_accredited": True,
                    "results": {**CLEAN_RESULTS, "seven_oh_pct_of_alkaloids": 3.5},
                },
            }
        ],
    }
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        _json.dump(intake, handle)
    call_command("screen", handle.name)
    printed = _json.loads(capsys.readouterr().out)["flags"]
    codes = {c["code"] for f in printed for c in f["contributors"]}
    # The lot's three failures are one product-quality problem; the ban is the legal one.
    assert {"problem:legal-status", "problem:product-quality"} <= {f["code"] for f in printed}
    assert {
        "legal:banned:US-AL:kratom",
        "lab:K-100:lot-mismatch",
        "lab:K-100:coa-old",
        "lab:K-100:seven_oh_pct_of_alkaloids",
    } <= codes


# ------------------------------------------------------------------ lots and uploads


def real_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    return tmp_path


@pytest.fixture
def lot(clinician_client, team):
    clinician_client.post(
        reverse("lot_list"),
        {
            "team": team.pk,
            "supplier": "Leafy Co",
            "product": "Green Maeng Da",
            "substance": "kratom",
            "form": "leaf_powder",
            "labelled_amount_mg": "",
            "daily_amount_g": "5",
            "lot_number": "K-100",
        },
    )
    return Lot.objects.get(lot_number="K-100")


def upload(client, lot, name, content, **fields):
    """POST the COA form as a browser would, with the file name exactly as given (the test
    client's own encoder would strip directories from it)."""
    data = {
        "lab_name": "Acme Labs",
        "accreditation_id": "17025-123",
        "tested_on": "2026-06-01",
        "coa_lot_number": "K-100",
        **{f"result_{k}": v for k, v in CLEAN_RESULTS.items()},
        **fields,
    }
    boundary = "----checklist-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in data.items()
    ]
    if name is not None:
        # A line break cannot travel raw in a header: browsers and clients send it
        # encoded (RFC 5987), which Django decodes before the app sees the name.
        filename = (
            f"filename*=UTF-8''{quote(name)}"
            if "\r" in name or "\n" in name
            else f'filename="{name}"'
        )
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="pdf"; {filename}\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return client.generic(
        "POST",
        reverse("coa_new", args=[lot.pk]),
        body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def test_recording_a_lot_reuses_supplier_and_product(clinician_client, team, lot):
    clinician_client.post(
        reverse("lot_list"),
        {
            "team": team.pk,
            "supplier": "Leafy Co",
            "product": "Green Maeng Da",
            "substance": "kratom",
            "form": "leaf_powder",
            "lot_number": "K-200",
        },
    )
    assert Lot.objects.filter(product=lot.product).count() == 2


def test_a_valid_pdf_is_stored_privately_with_its_hash(
    clinician_client, lot, media, outsider, client
):
    import hashlib

    content = real_pdf()
    saved = upload(clinician_client, lot, "coa march.pdf", content)
    assert saved.status_code == 302
    coa = CertificateOfAnalysis.objects.get()
    assert coa.sha256 == hashlib.sha256(content).hexdigest()
    assert coa.pdf.name.startswith("coa/") and "march" not in coa.pdf.name
    assert coa.results["salmonella"] == "absent" and coa.results["lead_ppm"] == 0.2
    download = clinician_client.get(reverse("coa_download", args=[coa.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == content

    assert (
        login(HttpsClient(), outsider).get(reverse("coa_download", args=[coa.pk])).status_code
        == 404
    )
    assert HttpsClient().get(reverse("coa_download", args=[coa.pk])).status_code == 302
    other = login(HttpsClient(), outsider)
    assert other.get(reverse("lot_detail", args=[lot.pk])).status_code == 404
    assert upload(other, lot, "x.pdf", content).status_code == 404


def test_add_certificate_stores_the_hash_of_the_file_it_stores(lot, clinician, media):
    import hashlib

    from django.core.files.uploadedfile import SimpleUploadedFile

    from checklists.suppliers.lots import add_certificate

    content = real_pdf()
    coa = add_certificate(
        user=clinician,
        lot=lot,
        lab_name="Acme Labs",
        accreditation_id="",
        tested_on=datetime.date(2026, 6, 1),
        coa_lot_number="K-100",
        results={},
        upload=SimpleUploadedFile("coa.pdf", content),
    )
    assert coa.sha256 == hashlib.sha256(content).hexdigest()
    with coa.pdf.open("rb") as stored:
        assert stored.read() == content


HOSTILE = [
    ("program.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "not a PDF"),
    ("page.pdf", b"<!doctype html><html><script>alert(1)</script></html>", "not a PDF"),
    ("drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "as a PDF file"),
    ("drawing.pdf", b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", "not a PDF"),
    ("big.pdf", b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024), "larger than 10 MB"),
    ("empty.pdf", b"", "empty"),
    ("../../etc/x.pdf", "valid", "path parts"),
    ("line\r\nbreak.pdf", "valid", "path parts"),
    ("..%2Fx.pdf", "valid", "path parts"),
    (
        "polyglot.pdf",
        b"%PDF-1.4\n<html><body><script>alert(1)</script></body></html>\n%%EOF",
        "web-page markup",
    ),
    ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf\n%%EOF", "could not be read"),
]


@pytest.mark.parametrize("name,content,message", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_uploads_are_refused_and_nothing_is_stored(
    clinician_client, lot, media, name, content, message
):
    refused = upload(clinician_client, lot, name, real_pdf() if content == "valid" else content)
    assert refused.status_code == 400
    assert message in refused.content.decode()
    assert not CertificateOfAnalysis.objects.exists()
    assert not any(media.rglob("*"))


def test_the_second_patient_picks_the_lot_from_a_list(
    clinician_client, clinician, team, lot, case, version, media
):
    upload(clinician_client, lot, None, b"")  # a COA without a PDF: results only
    response = make_response(case, clinician)
    url = reverse("section", args=[response.pk, "supplier_lab_testing"])
    page = clinician_client.get(url).content.decode()
    assert f'name="product_in_use-lot" value="{lot.pk}"' in page
    clinician_client.post(
        url,
        {
            "product_in_use-lot": [lot.pk],
            "melatonin_label_checked": "yes",
            "lock_version": response.lock_version,
            "stay": "",
        },
    )
    stored = response.answers.get(item__key="product_in_use").value
    assert stored[0]["lot_id"] == lot.pk and "K-100" in stored[0]["label"]
    codes = {
        c.code for f in clinician_client.get(url).context["state"].flags for c in f.contributors
    }
    assert not any(code.startswith("lab:") for code in codes)
    # A lot that is not on the team's list cannot be chosen.
    refused = clinician_client.post(
        url, {"product_in_use-lot": [999999], "lock_version": response.lock_version + 1}
    )
    assert "Choose lots from your team" in refused.content.decode()


def test_legal_panel_shows_the_status_in_effect(clinician_client, clinician, case, version):
    response = make_response(case, clinician)
    url = reverse("section", args=[response.pk, "legal_verification"])
    clinician_client.post(url, {"jurisdiction": "US-LA", "lock_version": 0, "stay": ""})
    body = clinician_client.get(url).content.decode()
    assert "Louisiana" in body and "Banned" in body and "Verified 2026-11-30" in body
    assert '<datalist id="id_jurisdiction-places">' in body
    refused = clinician_client.post(url, {"jurisdiction": "US-ZZ", "lock_version": 1})
    assert "not in the legal table" in refused.content.decode()
