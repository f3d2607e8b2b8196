from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ...authoring import bundle, files, loaders, release
from ...roles import ensure_roles

# The checklists loaded, each a template of its own: the intake (its first version is the
# one `make run` serves) and the follow-up review (issue 20).
CHECKLIST_FILES = ("default_checklist.json", "follow_up_checklist.json")


class Command(BaseCommand):
    help = (
        "Load the default checklist, its sources, the knowledge and the roles. Idempotent: a "
        "second run changes nothing; a changed checklist file becomes a new draft version, "
        "and changed knowledge files a release waiting for an editor's approval."
    )

    def handle(self, *args, **options):
        directory = files.CONTENT_DIR
        try:
            with transaction.atomic():
                ensure_roles()
                changed = bundle.load_sources(files.read_json(directory / "sources.json"))
                loaded = [
                    loaders.load_template(files.read_json(directory / name))
                    for name in CHECKLIST_FILES
                ]
                outcome = release.record_release(directory)
                version, created = loaded[0]
                loaders.record_loaded(
                    sources=changed,
                    knowledge=outcome.rows,
                    release=outcome.release.digest,
                    release_outcome=outcome.what,
                    template=version.template.slug,
                    version=version.number,
                    version_created=created,
                    templates={v.template.slug: [v.number, new] for v, new in loaded},
                )
        except files.ContentError as error:
            raise CommandError(f"Content not loaded: {error}") from None
        self.stdout.write(f"Sources: {changed} added or updated.")
        self.stdout.write(self._release_line(outcome))
        for version, created in loaded:
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

    @staticmethod
    def _release_line(outcome: release.Outcome) -> str:
        found = outcome.release
        if outcome.what == "loaded":
            return f"Knowledge: {outcome.rows} rows loaded ({found})."
        if outcome.what == "unchanged":
            return f"Knowledge: unchanged (the files are {found}, already loaded)."
        if outcome.what == "recorded":
            return (
                f"Knowledge: the files changed; {found} waits for an editor's approval "
                f"(admin, Knowledge releases: {found.change_count()} rows to review). "
                "Screening uses the knowledge loaded until then."
            )
        if outcome.what == "pending":
            return f"Knowledge: {found} still waits for an editor's approval."
        return (
            f"Knowledge: {found} was rejected by {found.decided_by} on "
            f"{found.decided_at:%Y-%m-%d} ({found.comment}); not recorded again."
        )
