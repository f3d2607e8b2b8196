"""note.pdf: the print view's template rendered to PDF with WeasyPrint.

The PDF never fetches anything: the stylesheet is read from the app's static files and
every URL the HTML might name (an image in an answer, a stylesheet) is refused, so a
hostile answer cannot make the server reach out to the network or the file system.
"""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from .document import CaseNote

PRINT_CSS = "css/print.css"


def render_print_html(note: CaseNote, *, for_pdf: bool = False) -> str:
    return render_to_string("checklists/print.html", {"note": note, "for_pdf": for_pdf})


def render_pdf(note: CaseNote) -> bytes:
    # Imported here: WeasyPrint adds ~27 MB and 0.7 s to a process, which every worker
    # would pay at start-up though only PDF requests need it.
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    class RefuseAllFetcher(URLFetcher):
        """Fetches nothing: each URL is logged as a warning by WeasyPrint and skipped."""

        def fetch(self, url, headers=None):
            raise ValueError(f"External resources are not fetched in case notes: {url[:80]}")

    fetcher = RefuseAllFetcher()
    stylesheet = CSS(filename=finders.find(PRINT_CSS), url_fetcher=fetcher)
    document = HTML(string=render_print_html(note, for_pdf=True), url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[stylesheet])
