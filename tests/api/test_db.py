"""The unit of work: the one place where work is committed, or rolled back with an error."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.models import LoginFailure
from api.db import after_commit, unit_of_work
from api.errors import Unauthorized


async def record_then_raise(
    sessionmaker: async_sessionmaker[AsyncSession], error: Exception, ran: list[str]
) -> None:
    """Write a row, ask for an action after commit, and fail."""

    async def action() -> None:
        ran.append("after commit")

    async with unit_of_work(sessionmaker) as session:
        session.add(LoginFailure(key="account:ada@example.org"))
        await session.flush()
        after_commit(session, action)
        raise error


async def failures(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(LoginFailure)) or 0)


@pytest.mark.parametrize("error", [Unauthorized("refused"), RuntimeError("a bug")])
async def test_an_error_rolls_the_work_back(
    sessionmaker: async_sessionmaker[AsyncSession], error: Exception
) -> None:
    ran: list[str] = []
    with pytest.raises(type(error)):
        await record_then_raise(sessionmaker, error, ran)
    assert await failures(sessionmaker) == 0
    assert ran == []


async def test_an_error_that_keeps_its_changes_commits_them_and_is_raised(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    ran: list[str] = []
    refusal = Unauthorized("refused", keeps_changes=True)
    with pytest.raises(Unauthorized) as raised:
        await record_then_raise(sessionmaker, refusal, ran)
    assert raised.value is refusal
    assert await failures(sessionmaker) == 1
    assert ran == ["after commit"]
