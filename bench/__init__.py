"""Benchmark tools (scripts run from the command line) and the reference pages they time.

Nothing here is in the request path of a deployment: clinic/urls.py includes bench.urls
only with BENCH_ENDPOINTS=1, which settings.py refuses outside loopback hosts.
"""
