"""Signing in and staying signed in: the second factor, session limits, passwords, lockout.

An app without models: django-otp holds the devices, django-axes the failed attempts,
Django the users and sessions. It imports from `checklists` only where an account event
must land in the one audit trail (`checklists.audit.record` and `AuditEvent`), and for
nothing else, so this app can be read without the clinical one.
"""
