"""The browsable API documentation, Swagger UI at ``/api/docs`` and ReDoc at ``/api/redoc``,
served from the service's own files, so that both work without internet access.

Their scripts and styles are the ones the ``fastapi-offline`` package ships, mounted at
``/api/docs/assets``. Each page has a policy of its own: the SPA's refuses inline scripts, and
Swagger UI starts with one (allowed by its hash, not inline scripts in general).
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS_URL = "/api/docs/assets"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def _policy(page: bytes) -> str:
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {hashes}".strip(),
            # Both set style attributes in their markup.
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "connect-src 'self'",
            # ReDoc's search index runs in a worker made from a blob.
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


def _serve(app: FastAPI, path: str, html: HTMLResponse) -> None:
    page = bytes(html.body)
    headers = {"Content-Security-Policy": _policy(page)}

    @app.get(path, include_in_schema=False)
    async def serve_page() -> HTMLResponse:
        return HTMLResponse(page, headers=headers)


def install_docs(app: FastAPI) -> None:
    """The two pages and their assets."""
    openapi_url, title = app.openapi_url or "/api/openapi.json", f"{app.title} - API"
    favicon = f"{ASSETS_URL}/favicon.png"
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    swagger = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=title,
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=favicon,
        # No badge from the online validator: nothing is fetched from elsewhere.
        swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
    )
    _serve(app, "/api/docs", swagger)
    redoc = get_redoc_html(
        openapi_url=openapi_url,
        title=title,
        redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=favicon,
        with_google_fonts=False,
    )
    _serve(app, "/api/redoc", redoc)
