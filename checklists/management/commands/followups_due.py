import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ...followups.worklist import due_by_clinician


class Command(BaseCommand):
    help = (
        "List the follow-ups due within N days (and every overdue one), per clinician who "
        "signed the case's last checklist, for a daily scheduled job or a mail. Cases are "
        "named by id and team only: the output may travel by mail or land in a log."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=7, help="Days ahead of today to include (default 7)."
        )

    def handle(self, *args, days: int, **options):
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        today = timezone.localdate()
        until = today + datetime.timedelta(days=days)
        found = due_by_clinician(until)
        total = sum(len(cases) for cases in found.values())
        self.stdout.write(f"Follow-ups due by {until.isoformat()}: {total}")
        for name, cases in found.items():
            self.stdout.write(f"\n{name}: {len(cases)}")
            for case in cases:
                late = (today - case.follow_up_due).days
                when = f"overdue {late} d" if late > 0 else "today" if late == 0 else "due"
                self.stdout.write(
                    f"  {case.follow_up_due.isoformat()}  {when:<12} case {case.pk}  "
                    f"{case.team.name}  /cases/{case.pk}/"
                )
