from django.core.management.base import BaseCommand, CommandError

from ...authoring import bundle, files, questionnaire
from ...models import ChecklistTemplate, TemplateVersion


class Command(BaseCommand):
    help = (
        "Write checklist content to stdout (or --output): JSON that import_content reads "
        "back byte for byte, or a FHIR R4B Questionnaire. Exports each template's published "
        "version (its latest version when none is published)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["json", "fhir"], default="json")
        parser.add_argument("--template", metavar="SLUG", help="only this template")
        parser.add_argument(
            "--number",
            type=int,
            metavar="N",
            help="this version number instead of the published one",
        )
        parser.add_argument("--output", "-o", metavar="FILE", help="write here, not to stdout")

    def handle(self, *args, **options):
        templates = ChecklistTemplate.objects.order_by("slug")
        if options["template"]:
            templates = templates.filter(slug=options["template"])
            if not templates:
                raise CommandError(f"No template with slug {options['template']!r}.")
        versions = [self._version(t, options["number"]) for t in templates]
        if not versions:
            raise CommandError("There is no checklist content to export.")
        if options["format"] == "fhir":
            try:
                data = questionnaire.export(versions)
            except questionnaire.InvalidQuestionnaire as error:
                raise CommandError(f"The Questionnaire would not be valid: {error}") from None
        else:
            data = bundle.export_bundle(versions)
        text = files.dump_json(data)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(text)
        else:
            self.stdout.write(text, ending="")

    def _version(self, template: ChecklistTemplate, number: int | None) -> TemplateVersion:
        versions = template.versions.select_related("template")
        if number is not None:
            version = versions.filter(number=number).first()
            if version is None:
                raise CommandError(f"{template.slug} has no version {number}.")
            return version
        return versions.published().first() or versions.order_by("-number").first()
