"""make lighthouse's report (bench/lighthouse.py): what it counts as costing points, and that a
run replaces only its own part of docs/lighthouse.md."""

from bench import lighthouse


def audit(score, mode="numeric", shown=""):
    return {"score": score, "scoreDisplayMode": mode, "displayValue": shown}


def report(**audits):
    refs = {
        "performance": [
            {"id": "first-contentful-paint", "weight": 10},
            {"id": "uses-text-compression", "weight": 0},
            {"id": "render-blocking-insight", "weight": 0},
            {"id": "dom-size", "weight": 0},
        ],
        "accessibility": [{"id": "color-contrast", "weight": 7}],
        "best-practices": [{"id": "errors-in-console", "weight": 1}],
    }
    return {
        "categories": {name: {"auditRefs": r} for name, r in refs.items()},
        "audits": {key.replace("_", "-"): value for key, value in audits.items()},
    }


def test_weighted_audits_cost_points_and_estimated_savings_are_hints():
    found = lighthouse.failing_audits(
        report(
            first_contentful_paint=audit(0.97, shown="1.4\xa0s"),
            uses_text_compression=audit(0, "metricSavings", "Est savings of 60\xa0KiB"),
            # The newer "insight" repeats the audit above; an informative one costs nothing.
            render_blocking_insight=audit(0, "metricSavings", "Est savings of 190\xa0ms"),
            dom_size=audit(0.5, "informative"),
            color_contrast=audit(1, "binary"),
            errors_in_console=audit(0, "binary"),
        )
    )
    assert found == [
        "performance: `first-contentful-paint` 0.97 1.4\xa0s",
        "best-practices: `errors-in-console` 0",
        "hint: `uses-text-compression` 0 Est savings of 60\xa0KiB",
    ]


def test_a_run_replaces_only_the_part_below_the_marker(tmp_path):
    out = tmp_path / "lighthouse.md"
    out.write_text(f"# Lighthouse\n\nBefore: 0.86.\n\n{lighthouse.MARKER}\n\n## Last run: old\n")
    lighthouse.write(out, "## Last run: new\n")
    text = out.read_text()
    assert text.startswith("# Lighthouse\n\nBefore: 0.86.\n") and text.count(lighthouse.MARKER) == 1
    assert "## Last run: new" in text and "old" not in text
    fresh = tmp_path / "new.md"
    lighthouse.write(fresh, "## Last run: first\n")
    assert fresh.read_text().startswith("# Lighthouse\n") and "first" in fresh.read_text()
