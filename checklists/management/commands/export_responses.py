import argparse
import datetime

from django.core.management.base import BaseCommand

from ... import audit
from ...exports.csv import ExportFilters, apply_filters, export_csv
from ...exports.fhir import bundles_ndjson
from ...models import AuditEvent, ChecklistResponse


def iso_date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date written YYYY-MM-DD: {text!r}") from None


class Command(BaseCommand):
    help = (
        "Export every checklist response (all teams: this is the operator's batch tool) as "
        "CSV or as FHIR R4B bundles, one per line (NDJSON), to standard output or a file."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["csv", "fhir-ndjson"], default="csv")
        parser.add_argument("--long", action="store_true", help="CSV: one row per answer.")
        parser.add_argument(
            "--since",
            type=iso_date,
            metavar="DATE",
            help="Only responses started or changed on or after DATE (YYYY-MM-DD, UTC).",
        )
        parser.add_argument("--output", "-o", metavar="FILE", help="Write here, not stdout.")

    def handle(self, *args, format: str, long: bool, since, output, **options):
        filters = ExportFilters(changed_since=since)
        responses = apply_filters(ChecklistResponse.objects.all(), filters)
        csv = format == "csv"
        chunks = export_csv(responses, long=long) if csv else bundles_ndjson(responses)
        audit.record(
            AuditEvent.Action.EXPORT_CSV if csv else AuditEvent.Action.EXPORT_FHIR_NDJSON,
            detail={
                "via": "command",
                "format": ("long" if long else "wide") if csv else "fhir-ndjson",
                "filters": filters.as_dict(),
            },
        )
        if output:
            with open(output, "w", encoding="utf-8", newline="") as handle:
                for chunk in chunks:
                    handle.write(chunk)
        else:
            for chunk in chunks:
                self.stdout.write(chunk, ending="")
