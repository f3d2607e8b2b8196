"""Demo data, for demo mode and the benchmarks only (never in the request path).

accounts.py: the demo teams and accounts, and the synthetic teams of a large seed.
cases.py: synthetic answers, and the prototype cases made through the write functions.
bulk.py: seed_cases, which copies the prototypes in bulk up to any number of cases.
"""
