"""The browsable API documentation (Swagger UI) at ``/api/docs``, under a policy of its own.

FastAPI's page loads Swagger UI from a CDN and starts it with an inline script, which the
SPA's policy refuses. This page's policy allows that CDN and that one script by its hash, not
inline scripts in general.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def _policy(page: bytes) -> str:
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {CDN} {hashes}",
            # Swagger UI's own styles set style attributes in its markup.
            f"style-src 'self' {CDN} 'unsafe-inline'",
            "img-src 'self' data: https://fastapi.tiangolo.com",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )


def docs_router(openapi_url: str, title: str) -> APIRouter:
    page = bytes(get_swagger_ui_html(openapi_url=openapi_url, title=f"{title} - API").body)
    policy = _policy(page)
    router = APIRouter()

    @router.get("/api/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": policy})

    return router
