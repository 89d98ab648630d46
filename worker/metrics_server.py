"""The worker's own /metrics, on CASEIMPORT_WORKER_METRICS_PORT.

Served from a thread (prometheus_client's WSGI app in a threading server), not from the
worker's event loop: a scrape is answered while the loop is blocked, and the heartbeat age says
so. Behind the same optional bearer token as the API's /metrics.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from http import HTTPStatus
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from api.config import Settings
from api.metrics import token
from worker.metrics import REGISTRY

log = logging.getLogger(__name__)

# The API's problem+json shape (api/problems.py), without the web framework.
_REFUSAL = json.dumps(
    {
        "type": "/problems/unauthenticated",
        "title": HTTPStatus.UNAUTHORIZED.phrase,
        "status": 401,
        "detail": token.DETAIL,
        "code": "unauthenticated",
    }
).encode()


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """A line per scrape would drown the worker's own."""


def guarded(app: WSGIApplication, settings: Settings) -> WSGIApplication:
    """``app`` behind the metrics token, when one is set."""

    def guarded_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if token.authorized(environ.get("HTTP_AUTHORIZATION"), settings.metrics_token):
            return app(environ, start_response)
        start_response(
            "401 Unauthorized",
            [
                ("Content-Type", "application/problem+json"),
                ("Content-Length", str(len(_REFUSAL))),
                ("WWW-Authenticate", token.CHALLENGE),
            ],
        )
        return [_REFUSAL]

    return guarded_app


def serve(settings: Settings) -> WSGIServer | None:
    """Start serving the worker's metrics, unless no port is set. A port that is taken raises
    (OSError): two workers on one host need two ports."""
    port = settings.worker_metrics_port
    if not port:
        return None
    host = settings.worker_metrics_host
    app = guarded(make_wsgi_app(REGISTRY), settings)
    try:
        server = make_server(host, port, app, ThreadingWSGIServer, handler_class=_Quiet)
    except OSError as exc:
        raise OSError(
            exc.errno, f"CASEIMPORT_WORKER_METRICS_PORT: cannot listen on {host}:{port}: {exc}"
        ) from exc
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("metrics on http://%s:%s/metrics", host, port)
    return server


def stop(server: WSGIServer) -> None:
    server.shutdown()
    server.server_close()
