from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ...authoring import files, review_table


class Command(BaseCommand):
    help = (
        "Write checklists/content/REVIEW.md: one table of every interaction, variability and "
        "combination rule, checklist caution, legal row and lab limit, with severity, "
        "evidence, sources and review dates, then one of the substance classes with their "
        "member counts, sources and review dates, read from the content data files (no "
        "database). "
        "--check: write nothing, exit non-zero if the file is out of date."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="fail if REVIEW.md is out of date; write nothing"
        )
        parser.add_argument(
            "--directory",
            metavar="DIR",
            default=str(files.CONTENT_DIR),
            help="the content directory (default: checklists/content)",
        )

    def handle(self, *args, **options):
        directory = Path(options["directory"])
        try:
            if options["check"]:
                problem = review_table.stale_message(directory)
                if problem:
                    raise CommandError(problem)
                self.stdout.write(f"{review_table.output_path(directory)} is up to date.")
                return
            text = review_table.build(directory)
        except (files.ContentError, OSError, KeyError, ValueError) as error:
            raise CommandError(f"Review table not built: {error!r}") from None
        path = review_table.output_path(directory)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(
            f"Wrote {path} ({text.count(chr(10))} lines, {len(text.encode())} bytes)."
        )
