"""Benchmarks: ``python -m bench.fanout``, ``bench.http``, ``bench.importer`` (``--json``).

Each starts what it measures in isolation (see :mod:`bench._stack`): a scratch
database, its own Redis (embedded by default) and uvicorn as a subprocess.
"""
