"""Run Debian's wapiti 3.0.4 with its URL-exclusion (-x) working on Python 3.11.

wapiti 3.0.4 builds each -x pattern as `re.compile(pattern + r"\\Z(?ms)")`; Python 3.11
refuses inline flags that are not at the start, so any -x crashes the crawl. This puts the
flags first and hands over to wapiti's own entry point; nothing else changes.
Run with the system Python that wapiti is installed for: python3 scan/wapiti.py ARGS.
"""

import re
import sys

from wapitiCore.net import crawler


def wildcard_translate(pattern: str) -> re.Pattern:
    body = "".join(".*" if char == "*" else re.escape(char) for char in pattern)
    return re.compile(r"(?ms)" + body + r"\Z")


crawler.wildcard_translate = wildcard_translate

from wapitiCore.main.wapiti import wapiti_main  # noqa: E402 (after the patch)

if __name__ == "__main__":
    sys.argv[0] = "wapiti"
    sys.exit(wapiti_main())
