"""The benchmark of issue 4: the service's imports against PostgreSQL's own COPY.

Run it with ``make bench`` (``ROWS=...``) or ``python -m bench``; see ``bench/__main__.py``.
"""
