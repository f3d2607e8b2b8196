"""Summarise a wapiti JSON report; exit 1 if anything of high or critical severity remains.

Usage: python scan/summary.py scan-results/wapiti.json
"""

from __future__ import annotations

import json
import sys

LEVELS = {0: "info", 1: "low", 2: "medium", 3: "high", 4: "critical"}


def main(path: str) -> int:
    with open(path) as handle:
        report = json.load(handle)
    worst = 0
    for section in ("vulnerabilities", "anomalies", "additionals"):
        print(f"== {section}")
        for category, findings in sorted(report.get(section, {}).items()):
            if not findings:
                continue
            levels = [int(f.get("level", 0)) for f in findings]
            counts = ", ".join(
                f"{sum(1 for lv in levels if lv == level)} {name}"
                for level, name in sorted(LEVELS.items(), reverse=True)
                if level in levels
            )
            print(f"{category}: {len(findings)} ({counts})")
            for finding in findings[:5]:
                where = f"{finding.get('method', '')} {finding.get('path', '')}".strip()
                info = " ".join(str(finding.get("info", "")).split())[:160]
                print(f"    [{LEVELS.get(int(finding.get('level', 0)), '?')}] {where}: {info}")
            if section != "additionals":
                worst = max(worst, *levels)
    crawled = report.get("infos", {}).get("crawled_pages_nbr")
    if crawled is not None:
        print(f"== pages crawled: {crawled}")
    print(f"== worst severity: {LEVELS.get(worst, worst)}")
    return 1 if worst >= 3 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
