"""Run Debian's wapiti 3.0.4 with two fixes, then hand over to wapiti's own entry point.

1. URL exclusion (-x): wapiti 3.0.4 builds each pattern as `re.compile(pattern +
   r"\\Z(?ms)")`; Python 3.11 refuses inline flags that are not at the start, so any -x
   crashes the crawl. The flags go first here.
2. CSRF check: the csrf module recognises a token only by name, from a fixed list without
   Django's `csrfmiddlewaretoken`, so it reported every form as having no token. With the
   name added, it does its real test: it posts each form with the token replaced and
   reports the form if the server accepts it.

Run with the system Python that wapiti is installed for: python3 scan/wapiti.py ARGS.
"""

import re
import sys

from wapitiCore.attack import mod_csrf
from wapitiCore.net import crawler


def wildcard_translate(pattern: str) -> re.Pattern:
    body = "".join(".*" if char == "*" else re.escape(char) for char in pattern)
    return re.compile(r"(?ms)" + body + r"\Z")


crawler.wildcard_translate = wildcard_translate
mod_csrf.mod_csrf.TOKEN_FORM_STRINGS = [
    *mod_csrf.mod_csrf.TOKEN_FORM_STRINGS,
    "csrfmiddlewaretoken",
]

from wapitiCore.main.wapiti import wapiti_main  # noqa: E402 (after the patch)

if __name__ == "__main__":
    sys.argv[0] = "wapiti"
    sys.exit(wapiti_main())
