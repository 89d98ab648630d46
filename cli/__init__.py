"""The ``caseimport`` console script: servers, migrations and the first users, apps and tokens.

Apart from ``api/`` and ``worker/`` so that the API never imports the worker (the ``worker``
command does). Secrets (a generated password, a token) are the only thing printed on stdout, so a
script can capture them; confirmations go to stderr.
"""
