"""The admin is the content editors' tool.

Templates, versions, sections and items (with inlines and ordering), sources and the
knowledge tables, each with search, filters and its change history. A version moves
through its workflow only by the buttons of versions.py, which call the write
functions of authoring/workflow.py; content of a version in review, published or retired
shows read-only. A knowledge table's page (sources included) proposes a change instead of
saving it (proposing.py); a second editor approves it on the review pages (proposals.py).

The modules register their admins when Django's admin autodiscovers this package:
content (sources, templates, sections, items), versions (the workflow), knowledge (the
knowledge, legal and lab tables), proposals (their review) and people (teams, the audit
trail).
"""

from . import content, knowledge, people, proposals, releases, versions

__all__ = ["content", "knowledge", "people", "proposals", "releases", "versions"]
