import os
import secrets

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from ...cases.drafts import DEFAULT_TEMPLATE_SLUG
from ...demo.accounts import ensure_demo_accounts
from ...demo.bulk import seed_cases
from ...models import TemplateVersion


class Command(BaseCommand):
    help = (
        "Demo mode only: load the default content if no checklist is published yet, create "
        "the demo teams and accounts when missing, then N deterministic synthetic cases "
        "(drafts and signed checklists)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=0, help="How many synthetic cases.")
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same data.")

    def handle(self, *args, cases: int, seed: int, **options):
        if not settings.DEMO_MODE:
            raise CommandError(
                "seed_demo runs only in demo mode (DJANGO_DEMO=1): it never "
                "creates demo accounts in a production database."
            )
        if cases < 0:
            raise CommandError("--cases must be 0 or more.")
        self._ensure_default_content()
        password = os.environ.get("DEMO_PASSWORD") or secrets.token_urlsafe(12)
        accounts = ensure_demo_accounts(password)
        created = seed_cases(cases, seed) if cases else 0
        self.stdout.write(f"Synthetic cases created: {created} (seed {seed}).")
        self.stdout.write("Demo accounts (all with the same password):")
        for account in accounts:
            where = f", team {account.team}" if account.team else ""
            role = "superuser" if account.superuser else account.role
            self.stdout.write(f"  {account.username:<10} {role}{where}")
        self.stdout.write(self.style.SUCCESS(f"Password: {password}"))

    def _ensure_default_content(self) -> None:
        """Load the default content on a database that has none, as load_default_content does.

        A demo is useless without a published checklist, and someone who runs seed_demo
        first means "give me a working demo", so loading it beats a refusal; a database
        that already has a published default is left alone (no new draft from a changed
        content file, which stays load_default_content's job).
        """
        published = TemplateVersion.objects.published().filter(template__slug=DEFAULT_TEMPLATE_SLUG)
        if published.exists():
            return
        self.stdout.write("No published checklist yet: loading the default content first.")
        call_command("load_default_content", stdout=self.stdout, stderr=self.stderr)
