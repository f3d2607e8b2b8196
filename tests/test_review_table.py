"""The reviewer's page (issue 17): REVIEW.md is current, complete, and built without a
database (no test here asks for one, so any query would fail it)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from checklists.authoring import files, review_table

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def content(tmp_path):
    """A copy of checklists/content/ with its REVIEW.md, to change without touching ours."""
    copy = tmp_path / "content"
    shutil.copytree(files.CONTENT_DIR, copy)
    return copy


def bump_first_interaction(directory: Path) -> None:
    path = directory / "knowledge" / "interactions.json"
    rules = json.loads(path.read_text())
    rules[0]["severity"] = "minor" if rules[0]["severity"] != "minor" else "major"
    path.write_text(json.dumps(rules))


def test_the_committed_page_is_up_to_date(capsys):
    call_command("review_table", "--check")
    assert "is up to date" in capsys.readouterr().out


def test_a_stale_page_fails_the_check_and_says_how_to_fix_it(content):
    bump_first_interaction(content)
    with pytest.raises(CommandError, match=r"out of date.*manage\.py review_table"):
        call_command("review_table", "--check", "--directory", str(content))


def test_a_missing_page_fails_the_check(content):
    (content / "REVIEW.md").unlink()
    with pytest.raises(CommandError, match="does not exist"):
        call_command("review_table", "--check", "--directory", str(content))


def test_the_check_exits_non_zero_from_the_shell(content):
    bump_first_interaction(content)
    done = subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
        [sys.executable, "manage.py", "review_table", "--check", "--directory", str(content)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=False,
    )
    assert done.returncode != 0 and "out of date" in done.stderr


def test_two_runs_write_the_same_bytes_and_the_check_then_passes(content):
    bump_first_interaction(content)
    call_command("review_table", "--directory", str(content))
    first = (content / "REVIEW.md").read_bytes()
    call_command("review_table", "--directory", str(content))
    assert (content / "REVIEW.md").read_bytes() == first
    call_command("review_table", "--check", "--directory", str(content))
    assert first != (files.CONTENT_DIR / "REVIEW.md").read_bytes()  # the change shows


def read(path: str):
    return files.read_json(files.CONTENT_DIR / path)


def test_every_rule_caution_legal_row_and_lab_limit_has_a_row():
    rows = review_table.build_rows()
    codes = {kind: {r.code for r in rows if r.kind == kind} for kind in review_table.KINDS}
    assert codes["interaction rule"] == {r["code"] for r in read("knowledge/interactions.json")}
    assert codes["variability rule"] == {r["code"] for r in read("knowledge/variability.json")}
    assert codes["combination rule"] == {r["code"] for r in read("knowledge/combinations.json")}
    intake = [i for s in read("default_checklist.json")["sections"] for i in s["items"]]
    follow_up = [i for s in read("follow_up_checklist.json")["sections"] for i in s["items"]]
    cautions = {f"item:{i['key']}" for i in intake if i.get("caution")}
    # The follow-up review's own cautions; those it shares with the intake are listed once.
    shared = {i["key"] for i in intake}
    cautions |= {
        f"follow-up item:{i['key']}"
        for i in follow_up
        if i.get("caution") and i["key"] not in shared
    }
    assert codes["checklist caution"] == cautions
    legal = read("legal/statuses.json")
    assert len(codes["legal row"]) == len(legal)  # one row each, none merged
    assert len(codes["lab limit"]) == len(read("lab/limits.json"))
    assert len(rows) == sum(len(c) for c in codes.values())


def test_every_column_is_filled_and_every_row_cites_a_source():
    known = {s["key"] for s in read("sources.json")}
    for row in review_table.build_rows():
        assert all(cell.strip() for cell in row.cells()), row
        assert set(row.sources.split(", ")) <= known, row
        if row.kind != "checklist caution":  # older items carry no dates in the file
            assert row.checked[:2] in ("19", "20") and row.review_by[:2] == "20", row


def test_rows_are_grouped_by_kind_then_sorted_by_code():
    rows = review_table.build_rows()
    order = [review_table.KINDS.index(r.kind) for r in rows]
    assert order == sorted(order)
    for kind in review_table.KINDS:
        keys = [r.sort_key for r in rows if r.kind == kind]
        assert keys == sorted(keys)


def test_legal_severity_is_what_the_screen_raises_for_the_row():
    rows = {r.code: r for r in review_table.build_rows() if r.kind == "legal row"}
    statuses = read("legal/statuses.json")

    def severity_of(status):
        row = next(s for s in statuses if s["status"] == status)
        return rows[f"{row['jurisdiction']}/{row['substance']}/{row['effective_from'] or '-'}"]

    assert severity_of("banned").severity == "contraindicated"
    assert severity_of("sale_prohibited").severity == "major"
    aged = severity_of("age_restricted")
    assert aged.severity.startswith("major if under ")
    assert severity_of("unclear").severity.startswith("major until")


def test_the_page_has_a_header_and_one_table_whose_cells_cannot_break_it():
    text = review_table.build()
    assert text.startswith("# Content review table\n")
    assert "python manage.py review_table" in text.split("|")[0]
    rules = text.split("\n## Substance classes\n")[0]  # the classes' table follows
    table = [line for line in rules.splitlines() if line.startswith("|")]
    assert len(table) == len(review_table.build_rows()) + 2  # header and rule line
    width = table[0].count(" | ")
    assert all(line.replace("\\|", "").count(" | ") == width for line in table[2:])
    odd = review_table.ReviewRow(
        "lab limit", "x/y", "a | b\nc", "p", "minor", "CS", "s", "2026-01-01", "2027-01-01"
    )
    assert "a \\| b c" in review_table.render([odd])
