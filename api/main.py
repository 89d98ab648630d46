"""The app factory: routers, problem+json handlers, and resources made once per process."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api import queue
from api.allow import install_allow
from api.apps.router import router as apps_router
from api.audit.router import router as audit_router
from api.auth.router import router as auth_router
from api.cases.router import router as cases_router
from api.changes.router import router as changes_router
from api.config import Settings, get_settings
from api.db import make_engine, make_read_sessionmaker, make_sessionmaker, warm_pool
from api.docs_page import install_docs
from api.events import running as events
from api.events.router import router as events_router
from api.frontend_mount import FrontendMount
from api.health.router import router as health_router
from api.import_types.router import router as import_types_router
from api.imports.derived_router import router as derived_imports_router
from api.imports.error_summary_router import router as error_summary_router
from api.imports.files_router import router as files_router
from api.imports.in_flight import UploadsInFlight
from api.imports.router import router as imports_router
from api.imports.router import statuses_router
from api.imports.rows_router import router as import_rows_router
from api.lost_connection import RetryLostConnection
from api.mappings.router import router as mappings_router
from api.metrics.middleware import RequestMetrics
from api.metrics.router import router as metrics_router
from api.nul_guard import RefuseNul
from api.openapi import install_openapi
from api.problems import install_handlers
from api.request_context import RequestContext
from api.security_headers import SecurityHeaders
from api.version import VERSION
from api.webhooks.router import router as webhooks_router

FRONTEND = Path(__file__).resolve().parent.parent / "frontend"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings)
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        app.state.read_sessionmaker = make_read_sessionmaker(engine)
        app.state.redis = await queue.connect(settings.redis_url)
        await warm_pool(engine, settings.db_pool_size)
        app.state.events = await events.start(settings, app.state.read_sessionmaker)
        # What start-up built (modules, routes, schemas) lives as long as the process: moved out
        # of the cyclic GC's reach, its pauses under a poll load stay short.
        gc.freeze()
        try:
            yield
        finally:
            await app.state.events.stop()
            await app.state.redis.aclose()
            await engine.dispose()

    app = FastAPI(
        title="Case import",
        version=VERSION,
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        # Served by api/docs_page.py, under a policy that lets Swagger UI run.
        docs_url=None,
        redoc_url=None,
    )
    install_handlers(app)
    install_openapi(app)
    install_allow(app)
    app.state.uploads_in_flight = UploadsInFlight(
        per_app=settings.upload_max_per_app, per_token=settings.upload_max_per_token
    )

    app.add_middleware(RetryLostConnection)
    app.add_middleware(RefuseNul)
    app.add_middleware(RequestMetrics)
    # Outside the NUL guard: its refusals carry the headers too.
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestContext, settings=settings)
    if settings.trusted_proxies:
        # In the app, not only in uvicorn (cli/commands/servers.py): whatever server runs it,
        # a forwarded client address counts only when a trusted proxy sent it.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)

    app.include_router(health_router)
    app.include_router(metrics_router)
    install_docs(app)
    for router in (
        auth_router,
        apps_router,
        import_types_router,
        statuses_router,
        imports_router,
        derived_imports_router,
        error_summary_router,
        files_router,
        import_rows_router,
        cases_router,
        changes_router,
        audit_router,
        mappings_router,
        webhooks_router,
        events_router,
    ):
        app.include_router(router, prefix="/api")
    frontend = Path(settings.frontend_dir) if settings.frontend_dir else FRONTEND
    if (frontend / "index.html").exists():
        app.router.routes.append(FrontendMount(frontend))
    return app
