"""Suppliers, their lots and the lots' certificates of analysis: the writes and the checks
on an uploaded certificate."""
