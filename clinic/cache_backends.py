"""A local-memory cache that keeps the objects themselves, not pickled copies."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache


class SharedObjectCache(LocMemCache):
    """Django's local-memory cache (one per process, least recently used dropped past
    MAX_ENTRIES, timeouts), except that `get` returns the very object `set` stored.

    Why not LocMemCache itself: it pickles on every set and unpickles on every get. What this
    cache holds is read by nearly every page: the knowledge base (thousands of objects) and
    the published versions' sections and items, which also keep the citations built for
    them. A copy per request would cost more than reading them was meant to save, and would
    drop what pages keep on them. Whoever gets a value must treat it as read-only: it is
    shared by every request and thread of the process.

    Relies on LocMemCache's storage (`_cache`, `_lock`, `_set`, `_has_expired`, `_delete`),
    unchanged since Django 2.1; tests/test_refdata.py checks the objects come back as stored.
    """

    def add(self, key, value: Any, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._set(key, value, timeout)
                return True
            return False

    def get(self, key, default=None, version=None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
                return default
            value = self._cache[key]
            self._cache.move_to_end(key, last=False)
        return value

    def set(self, key, value: Any, timeout=DEFAULT_TIMEOUT, version=None) -> None:
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            self._set(key, value, timeout)

    def incr(self, key, delta: int = 1, version=None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
                raise ValueError(f"Key '{key}' not found")
            value = self._cache[key] + delta
            self._cache[key] = value
            self._cache.move_to_end(key, last=False)
        return value
