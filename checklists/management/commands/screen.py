import json
import sys

from django.core.management.base import BaseCommand
from django.utils import timezone

from ... import screening


class Command(BaseCommand):
    help = (
        "Screen one intake (a JSON file, or - for standard input) and print its flags as "
        "JSON. Exit status 2 with a message on stderr when the intake is not valid."
    )

    def add_arguments(self, parser):
        parser.add_argument("intake", help="Path to the intake JSON, or - for stdin.")

    def handle(self, *args, intake: str, **options):
        try:
            if intake == "-":
                text = sys.stdin.read()
            else:
                with open(intake, encoding="utf-8") as handle:
                    text = handle.read()
        except (OSError, UnicodeDecodeError) as error:
            self._fail(f"Cannot read {intake}: {error}")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            self._fail(f"Not valid JSON (line {error.lineno}, column {error.colno}): {error.msg}")
        try:
            parsed = screening.parse_intake(data, today=timezone.localdate())
        except screening.IntakeError as error:
            self._fail(f"Invalid intake: {error}")
        result = screening.screen(parsed)
        output = {
            "flags": [flag.as_dict() for flag in result.flags],
            "unmatched_medications": result.unmatched,
            # Issue 17: the closest known name of a misspelt medicine (a hint only), and
            # the agents the medicine list shows in use ("7-OH tablets": kratom).
            "did_you_mean": result.suggestions,
            "substances_from_medications": {
                agent: list(typed) for agent, typed in sorted(result.from_medicines.items())
            },
        }
        self.stdout.write(json.dumps(output, indent=2, ensure_ascii=False))

    def _fail(self, message: str):
        self.stderr.write(message)
        sys.exit(2)
