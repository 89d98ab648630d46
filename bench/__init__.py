"""The benchmark: the service's imports against PostgreSQL's own COPY (docs/performance.md).

Run it with ``make bench`` (``ROWS=...``) or ``python -m bench``; see ``bench/__main__.py``.
"""
