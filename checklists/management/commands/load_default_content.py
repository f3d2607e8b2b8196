from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ...authoring import bundle, files, loaders
from ...roles import ensure_roles


class Command(BaseCommand):
    help = (
        "Load the default checklist, its sources and the roles. Idempotent: a second run "
        "changes nothing; a changed checklist file becomes a new draft version."
    )

    def handle(self, *args, **options):
        directory = files.CONTENT_DIR
        try:
            with transaction.atomic():
                ensure_roles()
                changed = bundle.load_sources(files.read_json(directory / "sources.json"))
                data = files.read_json(directory / "default_checklist.json")
                version, created = loaders.load_template(data)
                knowledge = loaders.load_knowledge()
                legal = loaders.load_legal()
                limits = loaders.load_lab_limits()
                loaders.record_loaded(
                    sources=changed,
                    knowledge=knowledge,
                    legal=legal,
                    lab_limits=limits,
                    template=version.template.slug,
                    version=version.number,
                    version_created=created,
                )
        except files.ContentError as error:
            raise CommandError(f"Content not loaded: {error}") from None
        self.stdout.write(f"Sources: {changed} added or updated.")
        self.stdout.write(f"Knowledge: {knowledge} rows added or updated.")
        self.stdout.write(f"Legal status: {legal} rows added or updated.")
        self.stdout.write(f"Lab limits: {limits} rows added or updated.")
        if created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{version.template.title}: stored version {version.number} "
                    f"({version.get_status_display().lower()})."
                )
            )
        else:
            self.stdout.write(
                f"{version.template.title}: unchanged (matches version {version.number})."
            )
