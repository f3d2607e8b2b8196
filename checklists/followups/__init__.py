"""Follow-up and monitoring (issue 20): the worklist of reviews due, a case's timeline and
the team dashboard. Read-only: every write (starting a follow-up review, signing it) goes
through `cases/`; these modules only read what signing froze."""
