"""Request-scoped resources: settings, the unit-of-work session, the queue.

Dependencies are ``async def`` even when they await nothing: FastAPI runs a plain ``def`` one
in a thread pool, a thread hop per request that a status poll cannot afford.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from arq import ArqRedis
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from api.config import Settings
from api.db import unit_of_work
from api.imports.in_flight import UploadsInFlight

_READS = frozenset({"GET", "HEAD"})


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's one session: committed after the handler returns, before the response.

    Used with ``scope="function"``: FastAPI's default scope would close it only after the
    response is sent, so a client could see 201 for a commit that then failed.
    """
    state = request.app.state
    # GET and HEAD only read (and touch a token's last use): no transaction around them.
    factory = state.read_sessionmaker if request.method in _READS else state.sessionmaker
    async with unit_of_work(factory) as session:
        yield session


async def get_redis(request: Request) -> ArqRedis:
    redis: ArqRedis = request.app.state.redis
    return redis


async def get_uploads_in_flight(request: Request) -> UploadsInFlight:
    uploads: UploadsInFlight = request.app.state.uploads_in_flight
    return uploads


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
RedisDep = Annotated[ArqRedis, Depends(get_redis)]
InFlightDep = Annotated[UploadsInFlight, Depends(get_uploads_in_flight)]
