import os
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ...demo.accounts import ensure_demo_accounts
from ...demo.bulk import seed_cases


class Command(BaseCommand):
    help = (
        "Demo mode only: create the demo teams and accounts when missing, then N "
        "deterministic synthetic cases (drafts and signed checklists)."
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
