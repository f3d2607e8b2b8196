"""Cases and their checklists: the writes (start, save, sign, amend, return, restart) and
the read-model the pages draw a response from (readmodel.py)."""
