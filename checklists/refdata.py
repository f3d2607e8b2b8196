"""Reference data held in each process, checked against the database on every use.

Every section, review and response page screens the answers, and screening reads the
whole knowledge base: about 280 substances, 850 names, the rules, the legal table, the lab
limits and the sources they cite. Reading and building those rows on every request cost
more than the rest of the page (issue 9). They change a few times a month, by an editor.

So each process keeps them in memory, in Django's "reference" cache (settings.CACHES: one
local-memory cache per process), and every use starts with one small query for the token
of `ReferenceDataStamp`. What is kept is tagged with the token it was read under; a changed
token means the data changed and is read again.

Why a stamp in the database and not a per-process signal or a timeout: several gunicorn
processes, on several machines, serve the same database. A second editor's approval of a
knowledge change (authoring/proposals.py) runs in one of them; the others learn of it only
through the database. Every write to reference data changes the token in the same
transaction (model signals below for saves, deletes and many-to-many changes;
`ReferenceDataQuerySet` for bulk writes), so the first request of any process after the
commit sees the new data. A clinician is never shown flags from
knowledge an editor has already replaced.

Writes that bypass Django (SQL typed into a database console, a restore) cannot change the
token. Cached data is therefore also dropped after `MAX_AGE` seconds (the cache's timeout)
whatever the token; after such a write, run `python manage.py load_default_content` or
approve a knowledge change in the admin to make every process reload at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.cache import BaseCache, caches
from django.db.models.signals import m2m_changed, post_delete, post_save

from .models import (
    CombinationRule,
    InteractionRule,
    Jurisdiction,
    LabLimit,
    LegalStatus,
    Problem,
    ReferenceDataStamp,
    Source,
    Substance,
    SubstanceAlias,
    VariabilityRule,
)
from .models.stamp import STAMP_ID, mark_reference_data_changed

# Safety net for writes made outside Django only; Django's own writes are seen at once.
MAX_AGE = 300

# The models whose rows the cache holds, and their many-to-many tables.
MODELS = (
    Source,
    Substance,
    SubstanceAlias,
    InteractionRule,
    VariabilityRule,
    Jurisdiction,
    LegalStatus,
    LabLimit,
    Problem,
    CombinationRule,
)
M2M_TABLES = (
    Substance.classes.through,
    Substance.ingredients.through,
    Substance.sources.through,
    InteractionRule.sources.through,
    VariabilityRule.sources.through,
    LegalStatus.sources.through,
    LabLimit.sources.through,
    Problem.sources.through,
    CombinationRule.sources.through,
)

T = TypeVar("T")

# The alias in settings.CACHES: also holds frozen versions' content (cases/readmodel.py).
CACHE = "reference"


def cache() -> BaseCache:
    """This process's cache of reference data; `cache().clear()` forgets it all (tests that
    count a cold request)."""
    return caches[CACHE]


def current_token() -> str | None:
    """The token now in the database (one query); None when the row is missing."""
    return ReferenceDataStamp.objects.filter(pk=STAMP_ID).values_list("token", flat=True).first()


def cached(key: str, loader: Callable[[], T], *, token: str | None = None) -> T:
    """`loader()`'s value, read again only when the token changed or MAX_AGE passed.

    The token is read before the data: if an editor commits while the data is being read,
    what is kept is tagged with the older token and is read again on the next use. One entry
    per key, whatever the token, so a process never holds two knowledge bases.
    """
    if token is None:
        token = current_token()
    if token is None:  # no stamp row (a flushed test database): never cache
        return loader()
    kept = cache().get(key)
    if kept is not None and kept[0] == token:
        return kept[1]
    value = loader()
    cache().set(key, (token, value), timeout=MAX_AGE)
    return value


def _changed(sender, **kwargs) -> None:
    mark_reference_data_changed()


def _m2m_changed(sender, action: str, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        mark_reference_data_changed()


def connect_signals() -> None:
    """Every save, delete and many-to-many change of reference data changes the token."""
    for model in MODELS:
        post_save.connect(_changed, sender=model, dispatch_uid=f"refdata-save-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"refdata-del-{model.__name__}")
    for table in M2M_TABLES:
        m2m_changed.connect(_m2m_changed, sender=table, dispatch_uid=f"refdata-m2m-{table}")
