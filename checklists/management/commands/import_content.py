import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ...authoring import bundle, files


class Command(BaseCommand):
    help = (
        "Import a file written by export_content (or a single checklist file). A new "
        "template's first version is published at once; content that differs from what a "
        "template already has becomes a new draft version. A malformed file is refused "
        "whole, naming the line or key at fault."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON file, or - for stdin")
        parser.add_argument("--author", metavar="USERNAME", help="record this editor as author")

    def handle(self, *args, **options):
        author = None
        if options["author"]:
            author = get_user_model().objects.filter(username=options["author"]).first()
            if author is None:
                raise CommandError(f"No user {options['author']!r}.")
        name = options["file"]
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {name}: {error}") from None
        try:
            data = files.parse_json(text, Path(name).name if name != "-" else "stdin")
            results = bundle.import_bundle(data, author=author)
        except files.ContentError as error:
            raise CommandError(f"Nothing imported: {error}") from None
        for version, created in results:
            if created:
                self.stdout.write(
                    f"{version.template.slug}: stored version {version.number} "
                    f"({version.get_status_display().lower()})."
                )
            else:
                self.stdout.write(
                    f"{version.template.slug}: unchanged (matches version {version.number})."
                )
