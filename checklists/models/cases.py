"""Teams, patient cases, checklist responses and their answers."""

from __future__ import annotations

import datetime
import functools

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.models import signature_text

from .content import Item, Severity, TemplateVersion


class Team(models.Model):
    name = models.CharField(max_length=120, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PatientCaseQuerySet(models.QuerySet):
    def visible_to(self, user) -> PatientCaseQuerySet:
        if not user.is_authenticated:
            return self.none()
        # team IN (the user's teams), not a join through the membership table: the case
        # then drives the query, so the list can walk the (-updated_at, -id) index and
        # stop after one page instead of sorting every visible case.
        return self.filter(team__in=Team.objects.filter(members=user).values("pk"))

    def with_checklist_state(self) -> PatientCaseQuerySet:
        """The case list's columns: the latest checklist's state, revision and version, and
        the most serious caution frozen on the latest signed one, as correlated subqueries
        of the rows query (the same queries at any number of cases). Nothing is screened: a
        draft has no stored flags (its cautions are computed on its pages)."""
        return self.annotate(**_checklist_state_columns())

    def with_reference(self, text: str) -> PatientCaseQuerySet:
        """Cases whose clinic reference contains `text` (any case; blank: all)."""
        return self.filter(reference__icontains=text) if text else self

    def due_by(self, day: datetime.date) -> PatientCaseQuerySet:
        """Follow-ups due on or before `day` (case list, worklist, navigation, reminders)."""
        return self.filter(follow_up_due__lte=day)

    def with_status(self, status: str, today: datetime.date, user=None) -> PatientCaseQuerySet:
        """Filter by the case list's status choices ("serious" needs with_checklist_state)."""
        if status == "follow_up_due":
            return self.due_by(today)
        if status == "serious":
            return self.filter(signed_caution__in=SERIOUS)
        if status not in ("draft", "my_drafts", "signed"):
            return self
        drafts = ChecklistResponse.objects.filter(case=OuterRef("pk"), status="draft")
        if status == "draft":
            return self.filter(Exists(drafts))
        if status == "my_drafts":
            return self.filter(Exists(drafts.filter(started_by=user)))
        signed = ChecklistResponse.objects.filter(case=OuterRef("pk"), status="signed")
        return self.filter(Exists(signed), ~Exists(drafts))


@functools.cache
def _checklist_state_columns() -> dict[str, RawSQL]:
    """The case list's two columns as correlated subqueries, written out once per process.

    Raw SQL because compiling the same subqueries from ORM expressions (a Case of Whens,
    an Exists, a Concat, a Cast) cost about 2 ms of Python per request, more than the
    database took to run them (issue 18 point 10: the page keeps its speed). Plain SQL that
    SQLite and PostgreSQL both run; the outer case is the query's main table.
    """
    case = PatientCase._meta.db_table
    response = ChecklistResponse._meta.db_table
    version = TemplateVersion._meta.db_table
    returned = AmendmentRequest._meta.db_table
    # "state revision version" of the latest checklist in one string (one subquery, not
    # three): read back by PatientCase.latest_state and its neighbours.
    latest = f"""(
        SELECT (CASE
            WHEN r.status = 'draft' AND r.amends_id IS NOT NULL THEN 'amending'
            WHEN r.status = 'signed'
                AND EXISTS (SELECT 1 FROM {returned} a WHERE a.response_id = r.id)
                THEN 'returned'
            WHEN r.status = 'signed' AND r.amends_id IS NOT NULL THEN 'amended'
            ELSE r.status END) || ' ' || r.revision || ' ' || v.number
        FROM {response} r INNER JOIN {version} v ON v.id = r.version_id
        WHERE r.case_id = {case}.id
        ORDER BY r.started_at DESC, r.id DESC LIMIT 1)"""  # noqa: S608 (names from our models)
    # The most serious severity in the latest signed checklist's frozen flags (see
    # _has_severity for why a text match is exact); '' when it froze none.
    whens = " ".join("WHEN CAST(r.flags_snapshot AS text) LIKE %s THEN %s" for _ in Severity.values)
    caution = f"""(
        SELECT CASE {whens} ELSE '' END FROM {response} r
        WHERE r.case_id = {case}.id AND r.status = 'signed'
        ORDER BY r.signed_at DESC, r.id DESC LIMIT 1)"""  # noqa: S608 (values as parameters)
    params = [p for s in Severity.values for p in (f"%{_severity_text(s)}%", s)]
    return {
        "latest": RawSQL(latest, (), output_field=models.CharField()),  # noqa: S611
        "signed_caution": RawSQL(caution, params, output_field=models.CharField()),  # noqa: S611
    }


def _has_severity(severity: str) -> Q:
    """A response's frozen flags (annotated as `flags_text`) hold one of this severity.

    The snapshot is matched as JSON text. SQLite (Django's json.dumps) and PostgreSQL
    (jsonb output) both write that pair as `"severity": "major"`, and the sequence cannot
    occur inside a JSON string, whose quotes are escaped; so this is exact on both, where a
    JSON containment lookup would not run on SQLite.
    """
    return Q(flags_text__contains=_severity_text(severity))


def _severity_text(severity: str) -> str:
    """How a flag of this severity reads in a frozen snapshot's JSON text (_has_severity)."""
    return f'"severity": "{severity}"'


# The severities that need an acknowledgement at signing: the "serious cautions" filter.
SERIOUS = (Severity.CONTRAINDICATED, Severity.MAJOR)
# The case list's badge (label, Bootstrap colour) per state of the latest checklist.
LATEST_STATE_BADGES = {
    "draft": ("Draft", "warning"),
    "amending": ("Amendment draft", "warning"),
    "signed": ("Signed", "success"),
    "amended": ("Amended", "success"),
    "returned": ("Returned for amendment", "danger"),
}


class PatientCase(models.Model):
    """A patient as the clinic knows them: nothing beyond what the checklist needs."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="cases")
    reference = models.CharField(
        "clinic reference",
        max_length=40,
        help_text="The clinic's own case or record number. Not a name.",
    )
    initials = models.CharField(max_length=4, blank=True)
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    jurisdiction = models.CharField(
        max_length=40, blank=True, help_text="Where the patient lives, e.g. US-TX or GB."
    )
    follow_up_due = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientCaseQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "reference"], name="case_reference_unique_in_team"
            ),
            models.CheckConstraint(
                condition=Q(birth_year__isnull=True) | Q(birth_year__gte=1900),
                name="case_birth_year_plausible",
            ),
        ]
        indexes = [
            models.Index(fields=["team", "follow_up_due"]),
            # The case list: newest first, one page at a time (see visible_to).
            models.Index(fields=["-updated_at", "-id"], name="case_list_order"),
        ]

    def __str__(self) -> str:
        return f"Case {self.reference}"

    @property
    def latest_state(self) -> str | None:
        """The latest checklist's state ("draft", "amending", "signed", "amended",
        "returned"), from with_checklist_state; None when the case has no checklist."""
        return self._latest_part(0)

    @property
    def latest_revision(self) -> int | None:
        part = self._latest_part(1)
        return int(part) if part else None

    @property
    def latest_version(self) -> int | None:
        part = self._latest_part(2)
        return int(part) if part else None

    def _latest_part(self, index: int) -> str | None:
        latest = getattr(self, "latest", None)
        return latest.split(" ")[index] if latest else None

    @property
    def latest_badge(self) -> tuple[str, str] | None:
        """The latest checklist's badge (a dict lookup here is cheaper per row than a
        chain of template conditions)."""
        state = self.latest_state
        if not state:
            return None
        return LATEST_STATE_BADGES.get(state, (state.capitalize(), "secondary"))

    @property
    def latest_is_draft(self) -> bool:
        return self.latest_state in ("draft", "amending")

    def follow_up_is_due(self, today: datetime.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.follow_up_due is not None and self.follow_up_due <= today


class ChecklistResponseQuerySet(models.QuerySet):
    def visible_to(self, user) -> ChecklistResponseQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(case__team__members=user)

    def drafts(self) -> ChecklistResponseQuerySet:
        return self.filter(status=ChecklistResponse.Status.DRAFT)

    def with_serious_flags(self) -> ChecklistResponseQuerySet:
        """Responses whose frozen flags include a contraindicated or major one (never a
        draft: drafts have no snapshot). See _has_severity for the match."""
        text = Cast("flags_snapshot", models.TextField())
        serious = Q()
        for severity in SERIOUS:
            serious |= _has_severity(severity)
        return self.annotate(flags_text=text).filter(serious)


class ChecklistResponse(models.Model):
    """One checklist filled in on a case, pinned for good to the version it was started on."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed"
        SUPERSEDED = "superseded", "Superseded"
        # A draft replaced by a copy on the current version (restart_response_on_current):
        # kept read-only, never deleted, with its answers as they were.
        RESTARTED = "restarted", "Restarted on a newer version"

    case = models.ForeignKey(PatientCase, on_delete=models.PROTECT, related_name="responses")
    version = models.ForeignKey(TemplateVersion, on_delete=models.PROTECT, related_name="responses")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    revision = models.PositiveSmallIntegerField(default=1)
    amends = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="amended_by"
    )
    amend_reason = models.TextField(blank=True)
    restarted_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="restarted_as"
    )
    # Optimistic concurrency: every write bumps it; a write from a stale page is refused.
    lock_version = models.PositiveIntegerField(default=0)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    attestation = models.TextField(blank=True)
    # The signer as named at signing (accounts.models.signer_identity: name, credentials,
    # registration number), frozen like the flags: a later edit of the profile never
    # changes a signed record. Empty on drafts and on checklists signed before issue 19,
    # which name the signer by username.
    signed_as = models.JSONField(default=dict, blank=True)
    # The flags shown at signing, frozen with the record (later knowledge edits never alter it).
    flags_snapshot = models.JSONField(default=list, blank=True)
    # Carry forward: the earlier signed checklist whose stable answers pre-filled this one,
    # and the item keys still awaiting the clinician's confirmation (a key leaves the list
    # when its section is saved).
    carried_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    carried_keys = models.JSONField(default=list, blank=True)

    objects = ChecklistResponseQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            # The case list's draft/signed state per case (EXISTS by case and status).
            models.Index(fields=["case", "status"], name="response_case_status"),
            # The dashboard's weeks and latest signings (issue 20), read from the index
            # alone: a scan of the table reads every frozen snapshot's pages.
            models.Index(fields=["status", "signed_at", "case"], name="response_status_signed"),
        ]
        permissions = [
            ("return_checklistresponse", "Can return a signed checklist for amendment"),
            ("export_responses", "Can export checklist responses in bulk"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "restarted"])
                | (Q(signed_by__isnull=False) & Q(signed_at__isnull=False)),
                name="signed_response_has_signer",
            ),
        ]

    def __str__(self) -> str:
        return f"Checklist {self.pk} (rev {self.revision}, {self.get_status_display()})"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def signer_name(self) -> str:
        """ "Dana Reyes, PharmD" as frozen at signing, else the signer's username."""
        fallback = self.signed_by.get_username() if self.signed_by_id else ""
        return signature_text(self.signed_as, fallback)

    def revision_chain(self) -> list[ChecklistResponse]:
        """Every revision from the first to the latest, this one included (one query per
        revision; chains are short)."""
        first = self
        while first.amends_id is not None:
            first = first.amends
        chain = [first]
        while True:
            later = ChecklistResponse.objects.filter(amends=chain[-1]).first()
            if later is None:
                return chain
            chain.append(later)

    @property
    def on_old_version(self) -> bool:
        """A draft answered against a version that is no longer the published one.

        Reads `current_version_id`, annotated by the guarded lookup (no extra query)."""
        current = getattr(self, "current_version_id", None)
        return self.is_draft and current is not None and current != self.version_id


class Answer(models.Model):
    """The answer to one item of one response.

    `value` holds the kind's natural JSON: a code, a list of codes, text, a number, an ISO
    date, or a list of objects for the structured kinds (medication list, product and lot).
    """

    response = models.ForeignKey(
        ChecklistResponse, on_delete=models.CASCADE, related_name="answers"
    )
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+")
    value = models.JSONField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "item"], name="one_answer_per_item"),
        ]

    def __str__(self) -> str:
        return f"Answer to {self.item_id} on {self.response_id}"


class MedicationEntry(models.Model):
    """A medicine as the clinician typed it, and what it matched, frozen at signing."""

    response = models.ForeignKey(
        ChecklistResponse, on_delete=models.CASCADE, related_name="medications"
    )
    position = models.PositiveSmallIntegerField()
    name_as_typed = models.CharField(max_length=120)
    dose = models.CharField(max_length=120, blank=True)
    frequency = models.CharField(max_length=120, blank=True)
    matched_substance = models.ForeignKey(
        "checklists.Substance", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    matched_name = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["response", "position"]

    def __str__(self) -> str:
        return self.name_as_typed


class Acknowledgement(models.Model):
    """A clinician's acknowledgement of a contraindicated or major flag, with a coded reason."""

    class Reason(models.TextChoices):
        ADVISED_AGAINST = "advised_against", "Discussed; advised the patient against it"
        PRESCRIBER_INFORMED = "prescriber_informed", "Prescriber or pharmacist informed"
        MONITORING_PLANNED = (
            "monitoring_planned",
            "Benefit judged to outweigh risk; monitoring planned",
        )
        PATIENT_DECLINED = "patient_declined", "Patient informed and declined the advice"
        NOT_APPLICABLE = "not_applicable", "Checked and does not apply to this patient"
        OTHER = "other", "Other (explain)"

    response = models.ForeignKey(
        ChecklistResponse, on_delete=models.CASCADE, related_name="acknowledgements"
    )
    flag_code = models.CharField(max_length=160)
    severity = models.CharField(max_length=16)
    reason = models.CharField(max_length=30, choices=Reason.choices)
    comment = models.TextField(blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["response", "id"]
        constraints = [
            models.UniqueConstraint(fields=["response", "flag_code"], name="one_ack_per_flag"),
            models.CheckConstraint(
                condition=~Q(reason="other") | ~Q(comment=""), name="other_reason_needs_comment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.flag_code}: {self.get_reason_display()}"


class AmendmentRequest(models.Model):
    """A supervisor's request that a signed checklist be corrected by amendment."""

    response = models.ForeignKey(
        ChecklistResponse, on_delete=models.CASCADE, related_name="amendment_requests"
    )
    comment = models.TextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"Return of checklist {self.response_id}"
