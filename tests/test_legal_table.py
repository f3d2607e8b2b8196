"""The legal table as verified against statutes and regulators (issue 17, point 4).

Each row checked on 2026-11-30 is exercised through the public `screen` path on the days
either side of its start, so a wrong date or age in the data file fails here.
"""

import datetime
import itertools
import json

import pytest
from django.core.management import call_command
from django.db.models import F

from checklists import screening
from checklists.authoring import files, loaders
from checklists.models import LegalStatus, Source

pytestmark = pytest.mark.django_db
CHECKED = datetime.date(2026, 11, 30)
SEVEN_OH_PRODUCT = {"substance": "kratom", "form": "concentrated_7oh"}


def flags(intake: dict) -> dict[str, str]:
    data = {"substances": ["kratom"], "on": "2026-12-01", **intake}
    result = screening.screen(screening.parse_intake(data, today=CHECKED))
    # Every legal rule hit by its own code and severity: each is a contributor to the one
    # legal-status problem the checklist shows.
    return {c.code: c.severity for flag in result.flags for c in flag.contributors}


def seven_oh(place: str, on: str) -> dict[str, str]:
    return flags({"jurisdiction": place, "on": on, "products": [SEVEN_OH_PRODUCT]})


UNDER_AGE = "legal:under-minimum-age:{}:kratom"

# (place, day, age) that must raise the minimum-age caution, and (place, day, age) that
# must not: the day before a law starts, or a patient old enough.
UNDER_MINIMUM_AGE = [
    ("US-FL", "2023-07-01", 19),
    ("US-FL", "2026-12-01", 20),
    ("US-GA", "2025-01-01", 20),
    ("US-UT", "2026-01-01", 17),
    ("US-UT", "2026-06-01", 17),
    ("US-MS", "2025-07-01", 20),
    ("US-KY", "2024-07-15", 20),
    ("US-SD", "2021-07-01", 20),
    ("US-SD", "2026-12-01", 20),
    ("US-IL", "2016-01-01", 17),
    ("US-WV", "2023-06-09", 20),
    ("US-VA", "2023-07-01", 20),
    ("US-CO", "2026-12-01", 20),
    ("US-NV", "2026-12-01", 17),
    ("US-OR", "2026-12-01", 20),
    ("US-OK", "2021-11-01", 17),
    ("US-SC", "2025-05-12", 20),
    ("US-NE", "2025-07-01", 20),
    ("US-NY", "2025-12-19", 20),
    ("US-MD", "2024-10-01", 20),
    ("US-LA", "2025-07-31", 17),  # R.S. 40:989.3 until the 2025 ban
]
OLD_ENOUGH_OR_BEFORE_THE_LAW = [
    ("US-FL", "2023-06-30", 19),
    ("US-FL", "2026-12-01", 22),
    ("US-GA", "2024-12-31", 20),
    ("US-GA", "2026-12-01", 21),
    ("US-UT", "2026-01-01", 19),  # the statute says 18; the starter table said 21
    ("US-UT", "2026-06-01", 19),
    ("US-MS", "2025-06-30", 20),
    ("US-KY", "2024-07-14", 20),
    ("US-SD", "2021-06-30", 20),
    ("US-IL", "2015-12-31", 17),
    ("US-IL", "2026-12-01", 18),
    ("US-WV", "2023-06-08", 20),
    ("US-VA", "2023-06-30", 20),
    ("US-VA", "2026-12-01", 21),
    ("US-CO", "2026-12-01", 21),
    ("US-NV", "2026-12-01", 18),
    ("US-OR", "2026-12-01", 21),
    ("US-OK", "2021-10-31", 17),
    ("US-OK", "2026-12-01", 18),
    ("US-SC", "2025-05-11", 20),
    ("US-SC", "2026-12-01", 21),
    ("US-NE", "2025-06-30", 20),
    ("US-NY", "2025-12-18", 20),
    ("US-MD", "2024-09-30", 20),
    ("US-MD", "2026-12-01", 21),
    ("US-LA", "2025-07-31", 18),
]


@pytest.mark.parametrize("place,on,age", UNDER_MINIMUM_AGE)
def test_a_patient_under_the_minimum_age_gets_the_age_caution(place, on, age):
    got = flags({"jurisdiction": place, "on": on, "age_years": age})
    assert got[UNDER_AGE.format(place)] == "major"


@pytest.mark.parametrize("place,on,age", OLD_ENOUGH_OR_BEFORE_THE_LAW)
def test_no_age_caution_for_an_adult_or_before_the_law(place, on, age):
    assert UNDER_AGE.format(place) not in flags({"jurisdiction": place, "on": on, "age_years": age})


@pytest.mark.parametrize("place,on,age", UNDER_MINIMUM_AGE[:2] + UNDER_MINIMUM_AGE[3:])
def test_a_verified_row_needs_no_own_check_of_the_law(place, on, age):
    got = flags({"jurisdiction": place, "on": on, "age_years": age})
    assert f"legal:unverified:{place}:kratom" not in got


class TestOhioSevenOh:
    BAN = "legal:banned:US-OH:seven_oh"

    @pytest.mark.parametrize("on", ["2025-12-12", "2025-12-18", "2025-12-19", "2026-06-10"])
    def test_the_emergency_rule_bans_7oh_products_from_12_december(self, on):
        assert seven_oh("US-OH", on)[self.BAN] == "contraindicated"

    @pytest.mark.parametrize("on", ["2025-12-11", "2026-06-11"])
    def test_not_before_it_nor_after_it_lapses(self, on):
        got = seven_oh("US-OH", on)
        assert self.BAN not in got
        assert got["legal:unverified:US-OH:seven_oh"] == "major"

    def test_leaf_kratom_alone_is_not_caught_by_the_7oh_rule(self):
        assert self.BAN not in flags({"jurisdiction": "US-OH", "on": "2025-12-12"})


class TestSaleProhibited:
    """A ban on selling is not a ban on possessing: no "possession is unlawful" advice."""

    def test_california_before_the_health_department_notice_is_unclear(self):
        got = flags({"jurisdiction": "US-CA", "on": "2025-10-23", "age_years": 40})
        assert got["legal:unverified:US-CA:kratom"] == "major"

    @pytest.mark.parametrize("place,on", [("US-CA", "2025-10-24"), ("CA", "2026-12-01")])
    def test_sale_prohibited_is_neither_a_possession_ban_nor_unverified(self, place, on):
        got = flags({"jurisdiction": place, "on": on, "age_years": 40})
        assert f"legal:banned:{place}:kratom" not in got
        assert f"legal:unverified:{place}:kratom" not in got

    @pytest.mark.parametrize("place", ["US-CA", "US-GA"])
    def test_7oh_products_are_not_reported_as_a_possession_ban(self, place):
        got = seven_oh(place, "2026-12-01")
        assert f"legal:banned:{place}:seven_oh" not in got
        assert f"legal:unverified:{place}:seven_oh" not in got

    def test_the_rows_carry_the_new_status(self):
        rows = LegalStatus.objects.filter(status=LegalStatus.Status.SALE_PROHIBITED)
        assert {(r.jurisdiction.code, r.substance) for r in rows} == {
            ("US-CA", "kratom"),
            ("US-CA", "seven_oh"),
            ("US-GA", "seven_oh"),
            ("CA", "kratom"),
            # Corrected in the fourth pass: neither law makes holding kratom an offence.
            ("GB", "kratom"),
            ("US-CO-DENVER", "kratom"),
            # New 7-OH rows: a cap on 7-OH in kratom products forbids selling concentrates.
            ("US-MD", "seven_oh"),
            ("US-RI", "seven_oh"),
            ("US-TX", "seven_oh"),
            ("US-AZ", "seven_oh"),  # secondary sources only
            ("US-WY", "seven_oh"),  # secondary sources only
        }

    @pytest.mark.parametrize(
        "place,on,substance",
        [("US-CA", "2025-11-01", "kratom"), ("CA", "2026-12-01", "kratom")],
    )
    def test_sale_prohibited_raises_its_own_legal_flag(self, place, on, substance):
        got = flags({"jurisdiction": place, "on": on, "age_years": 40})
        assert got[f"legal:sale-prohibited:{place}:{substance}"] == "major"

    @pytest.mark.parametrize("place", ["US-CA", "US-GA"])
    def test_7oh_sale_prohibited_is_flagged(self, place):
        assert seven_oh(place, "2026-12-01")[f"legal:sale-prohibited:{place}:seven_oh"] == "major"

    @pytest.mark.parametrize("place", ["GB", "US-CO-DENVER"])
    def test_uk_and_denver_forbid_selling_not_holding(self, place):
        # The Psychoactive Substances Act 2016 has no simple-possession offence outside
        # custody; Denver's 2017 rule restricts sale for human consumption.
        got = flags({"jurisdiction": place, "age_years": 40})
        assert got[f"legal:sale-prohibited:{place}:kratom"] == "major"
        assert f"legal:banned:{place}:kratom" not in got

    def test_the_advice_never_says_possession_is_unlawful(self):
        data = {"substances": ["kratom"], "jurisdiction": "US-CA", "on": "2026-12-01"}
        result = screening.screen(screening.parse_intake(data, today=CHECKED))
        contributors = [c for f in result.flags for c in f.contributors]
        (flag,) = [c for c in contributors if c.code == "legal:sale-prohibited:US-CA:kratom"]
        assert "unlawful" not in flag.advice.lower().replace("lawful market", "")
        assert "not make having it an offence" in flag.advice


@pytest.mark.parametrize("place", ["DK", "IE", "JP"])
def test_a_country_where_possession_is_an_offence_is_contraindicated(place):
    got = flags({"jurisdiction": place, "age_years": 40})
    assert got[f"legal:banned:{place}:kratom"] == "contraindicated"
    assert f"legal:unverified:{place}:kratom" not in got


def test_rows_reported_but_not_verified_still_need_the_clinicians_check():
    # Reported bans (Singapore, Sweden) and states where no law was found (Iowa, Michigan)
    # rest on secondary sources dated months back: the clinician still checks the law.
    for place in ("SG", "SE", "KR", "PL", "US-IA", "US-MI", "US-WA", "US-WY"):
        got = flags({"jurisdiction": place, "age_years": 40})
        assert got[f"legal:unverified:{place}:kratom"] == "major"


@pytest.mark.parametrize("place", ["AU", "BE", "CA", "IT", "DE"])
def test_melatonin_rows_give_the_rules_for_information(place):
    got = flags({"substances": ["melatonin"], "jurisdiction": place, "age_years": 40})
    assert got[f"legal:rules:{place}:melatonin"] == "info"
    assert f"legal:unverified:{place}:melatonin" not in got


class TestRowsVerifiedInTheSecondPass:
    """Rows checked on 2026-11-30 after the first 18: each through `screen`."""

    def test_virginia_before_its_act_still_needs_the_clinicians_check(self):
        got = flags({"jurisdiction": "US-VA", "on": "2023-06-30", "age_years": 40})
        assert got["legal:unverified:US-VA:kratom"] == "major"

    def test_the_federal_row_alone_raises_nothing_once_verified(self):
        # Not controlled federally; FDA's position is in the row's summary.
        got = flags({"jurisdiction": "US", "age_years": 40})
        assert not any(code.startswith("legal:") for code in got)

    def test_korea_controls_7oh_products(self):
        got = seven_oh("KR", "2026-12-01")
        assert got["legal:banned:KR:seven_oh"] == "contraindicated"
        # The leaf's own listing was not confirmed: the clinician checks it.
        assert got["legal:unverified:KR:kratom"] == "major"

    def test_leaf_kratom_in_korea_is_not_reported_as_a_ban(self):
        got = flags({"jurisdiction": "KR", "age_years": 40})
        assert "legal:banned:KR:kratom" not in got

    def test_japan_no_longer_rests_on_a_vendor_page(self):
        row = LegalStatus.objects.get(jurisdiction__code="JP", substance="kratom")
        assert "vendor-japan-kratom-2024" not in {s.key for s in row.sources.all()}


class TestRowsVerifiedInTheThirdPass:
    """Nevada, Oregon and Oklahoma from their statutes; Virginia's start from its Constitution."""

    def test_oklahoma_before_its_act_still_needs_the_clinicians_check(self):
        got = flags({"jurisdiction": "US-OK", "on": "2021-10-31", "age_years": 40})
        assert got["legal:unverified:US-OK:kratom"] == "major"

    def test_oklahoma_rule_names_the_current_7oh_limit(self):
        row = LegalStatus.objects.get(jurisdiction__code="US-OK", effective_from="2021-11-01")
        assert "1 %" in row.seven_oh_rule

    def test_nevada_and_oregon_no_longer_rest_on_vendor_pages(self):
        for place in ("US-NV", "US-OR"):
            row = LegalStatus.objects.get(jurisdiction__code=place, substance="kratom")
            assert "vendor-legality-pages" not in {s.key for s in row.sources.all()}, place

    def test_virginia_start_date_cites_the_constitution(self):
        row = LegalStatus.objects.get(jurisdiction__code="US-VA", effective_from="2023-07-01")
        assert "va-const-art4-s13" in {s.key for s in row.sources.all()}

    @pytest.mark.parametrize("on", ["2026-07-01", "2026-12-01"])
    def test_federal_7oh_notice_of_intent_is_not_treated_as_a_ban(self, on):
        got = seven_oh("US", on)
        assert "legal:banned:US:seven_oh" not in got
        assert got["legal:unverified:US:seven_oh"] == "major"


class TestRowsVerifiedInTheFourthPass:
    """Rows checked on 2026-11-30 in the fourth pass, and its corrections, through `screen`."""

    def test_connecticut_bans_kratom_from_24_february_2026(self):
        assert flags({"jurisdiction": "US-CT", "on": "2026-02-24"})[
            "legal:banned:US-CT:kratom"
        ] == ("contraindicated")
        assert "legal:banned:US-CT:kratom" not in flags(
            {"jurisdiction": "US-CT", "on": "2026-02-23"}
        )

    def test_connecticut_bans_7oh_products_with_the_leaf(self):
        assert seven_oh("US-CT", "2026-12-01")["legal:banned:US-CT:seven_oh"] == "contraindicated"

    @pytest.mark.parametrize("place", ["US-WI", "US-AR", "US-LA"])
    def test_states_listing_7oh_in_schedule_i_ban_7oh_products(self, place):
        assert seven_oh(place, "2026-12-01")[f"legal:banned:{place}:seven_oh"] == "contraindicated"

    @pytest.mark.parametrize("place", ["US-MD", "US-TX", "US-RI"])
    def test_a_7oh_cap_forbids_selling_concentrates_without_a_possession_ban(self, place):
        got = seven_oh(place, "2026-12-01")
        assert got[f"legal:sale-prohibited:{place}:seven_oh"] == "major"
        assert f"legal:banned:{place}:seven_oh" not in got

    def test_tennessee_bans_kratom_and_7oh_from_1_july_2026(self):
        # Public Chapter 950 (2026): possession is an offence; the 2018 21+ rule is repealed.
        assert flags({"jurisdiction": "US-TN", "on": "2026-07-01", "age_years": 40})[
            "legal:banned:US-TN:kratom"
        ] == ("contraindicated")
        before = flags({"jurisdiction": "US-TN", "on": "2026-06-30", "age_years": 20})
        assert "legal:banned:US-TN:kratom" not in before
        assert before["legal:under-minimum-age:US-TN:kratom"] == "major"
        assert seven_oh("US-TN", "2026-12-01")["legal:banned:US-TN:seven_oh"] == "contraindicated"

    def test_florida_cites_the_enacted_house_bill(self):
        row = LegalStatus.objects.get(jurisdiction__code="US-FL", effective_from="2023-07-01")
        keys = {s.key for s in row.sources.all()}
        assert "fl-cs-hb179-2023-text" in keys
        assert "fl-sb136-2023-bill-text" not in keys
        assert "500.92" in row.summary

    def test_the_federal_7oh_row_keeps_its_start_and_names_the_publication_date(self):
        row = LegalStatus.objects.get(
            jurisdiction__code="US", substance="seven_oh", effective_to=None
        )
        assert row.effective_from == datetime.date(2026, 7, 1)
        assert "6 Jul 2026" in row.summary


@pytest.mark.parametrize("place", ["NZ", "IL", "VN"])
def test_a_listed_place_without_a_row_asks_the_clinicians_own_check(place):
    """New Zealand, Israel and Vietnam: no source was found for a status, so there is no
    row, but the place can be recorded and the clinician is asked to check the law."""
    got = flags({"jurisdiction": place, "age_years": 40})
    assert got[f"legal:unverified:{place}:kratom"] == "major"
    assert not any(code.startswith(("legal:banned", "legal:rules")) for code in got)


class TestTheTableItself:
    def test_every_row_has_a_source_a_check_and_a_review_date(self):
        for row in LegalStatus.objects.prefetch_related("sources"):
            assert row.sources.exists(), row
            assert row.verified_on and row.verified_by, row
            assert row.review_by and row.review_by > row.verified_on, row

    def test_the_data_file_uses_only_known_statuses(self):
        # The loader stores the status as written, so the file is checked here.
        rows = files.read_json(files.CONTENT_DIR / "legal" / "statuses.json")
        assert {r["status"] for r in rows} <= set(LegalStatus.Status.values)

    def test_rows_for_one_place_and_substance_never_overlap(self):
        # An open start sorts first on every database (PostgreSQL puts NULLs last by default).
        start = F("effective_from").asc(nulls_first=True)
        rows = LegalStatus.objects.order_by("jurisdiction_id", "substance", start)
        for key, group in itertools.groupby(rows, lambda r: (r.jurisdiction_id, r.substance)):
            group = list(group)
            for earlier, later in itertools.pairwise(group):
                assert earlier.effective_to is not None, (key, earlier)
                assert later.effective_from is not None, (key, later)
                assert earlier.effective_to < later.effective_from, (key, earlier, later)

    def test_rows_checked_against_primary_sources_cite_a_law_or_regulator(self):
        checked = LegalStatus.objects.filter(verified_on=CHECKED).prefetch_related("sources")
        assert checked.count() >= 20
        for row in checked:
            kinds = {s.kind for s in row.sources.all()}
            assert kinds & {Source.Kind.LAW, Source.Kind.REGULATORY}, row
            assert "checked 2026-11-30" in row.verified_by.lower(), row
            assert (row.review_by - row.verified_on).days in (90, 180), row

    def test_new_sources_are_appended_with_urls(self):
        data = json.loads((files.CONTENT_DIR / "sources.json").read_text())
        keys = [s["key"] for s in data]
        assert len(keys) == len(set(keys))
        for key in (
            "fl-sb136-2023-bill-text",
            "oh-oac-4729-9-1-01-1",
            "cdph-kratom-7oh-2025",
            "nv-nrs-597-998",
            "ok-63-1-1432-4-westlaw",
            "va-const-art4-s13",
        ):
            assert next(s for s in data if s["key"] == key)["url"].startswith("http")


def test_loading_the_default_content_twice_changes_nothing():
    call_command("load_default_content")
    before = list(LegalStatus.objects.order_by("pk").values())
    history = LegalStatus.history.count()
    call_command("load_default_content")
    assert list(LegalStatus.objects.order_by("pk").values()) == before
    assert LegalStatus.history.count() == history
    assert loaders.load_legal() == 0
