"""Checklist content authoring: versions, validation, review workflow, diff, files and FHIR."""
