"""The API process's fan-out: the latest state of each import someone follows, and the streams
that follow it.

The listener (``listener.py``) hands every notice here. A notice for an import nobody in this
process follows costs a dictionary look-up; a beat updates the state from its payload; any
other change reads the import again, once for all its streams however many there are, and a
read asked for while one is under way is made once more after it. Reads take turns with the
streams' own first reads (at most a pool's worth at once), and a read that fails (the database
is away) is tried again, more slowly each time, for as long as the import is followed. A
stream is woken to send the latest state, never a backlog: a slow client skips the states it
missed, and memory per stream stays a few objects whatever the import does.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from api.events.publish import parse
from api.events.snapshot import Snapshot
from api.imports.repository import ImportView

log = logging.getLogger(__name__)

# Reads an import's view (None when there is none in that app).
Reader = Callable[[uuid.UUID, uuid.UUID], Awaitable[ImportView | None]]

# Pauses before a failed read is tried again.
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0)


class Subscription:
    """One stream's hold on an import: woken when there is something to send, or to stop."""

    __slots__ = ("closed", "topic", "wake")

    def __init__(self, topic: Topic) -> None:
        self.topic = topic
        self.wake = asyncio.Event()
        self.closed = False

    @property
    def latest(self) -> Snapshot | None:
        return self.topic.latest

    def stop(self) -> None:
        """End the stream (the client left, or the server is stopping)."""
        self.closed = True
        self.wake.set()


class Topic:
    __slots__ = ("app_id", "dirty", "import_id", "latest", "reading", "subscribers")

    def __init__(self, import_id: uuid.UUID) -> None:
        self.import_id = import_id
        # Known once a read found the import (a stream's first read, in its app).
        self.app_id: uuid.UUID | None = None
        self.latest: Snapshot | None = None
        self.subscribers: set[Subscription] = set()
        self.reading: asyncio.Task[None] | None = None
        self.dirty = False


class Broker:
    def __init__(self, read: Reader, *, max_streams: int, opening_at_once: int) -> None:
        self._read = read
        # Reads of the database at once: streams being opened (api/events/router.py) and the
        # reads again of followed imports.
        self.opening = asyncio.Semaphore(opening_at_once)
        self._topics: dict[uuid.UUID, Topic] = {}
        self.max_streams = max_streams
        self.streams = 0
        self.closing = False
        # Set while the listener's connection listens (api/events/listener.py).
        self.listening = asyncio.Event()

    def subscribe(self, import_id: uuid.UUID) -> Subscription:
        topic = self._topics.get(import_id)
        if topic is None:
            topic = self._topics[import_id] = Topic(import_id)
        subscription = Subscription(topic)
        topic.subscribers.add(subscription)
        self.streams += 1
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        topic = subscription.topic
        if subscription not in topic.subscribers:
            return
        topic.subscribers.discard(subscription)
        self.streams -= 1
        if not topic.subscribers and self._topics.get(topic.import_id) is topic:
            del self._topics[topic.import_id]
            if topic.reading is not None:
                topic.reading.cancel()

    def found(self, subscription: Subscription, app_id: uuid.UUID, view: ImportView) -> None:
        """A stream's own first read of its import."""
        topic = subscription.topic
        topic.app_id = app_id
        self._offer(topic, Snapshot(view))
        if topic.dirty:  # a notice came while that read ran: it may have missed the change
            self._reread(topic)

    def notified(self, payload: str) -> None:
        """A notice from the channel (``publish.py``)."""
        notice = parse(payload)
        if notice is None:
            return
        topic = self._topics.get(notice.import_id)
        if topic is None:
            return
        moved = None
        if notice.beat is not None and topic.latest is not None:
            moved = topic.latest.with_beat(notice.beat)
        if moved is not None:
            self._offer(topic, moved)
        else:
            self._reread(topic)

    def reread_all(self) -> None:
        """Read every followed import again: notices may have been missed (the listener's
        connection was lost)."""
        for topic in list(self._topics.values()):
            self._reread(topic)

    def close(self) -> None:
        """The server is stopping: every stream ends (its client reconnects elsewhere)."""
        self.closing = True
        for topic in list(self._topics.values()):
            for subscription in list(topic.subscribers):
                subscription.stop()

    def _offer(self, topic: Topic, snapshot: Snapshot) -> None:
        # States arrive out of order (a read that started before a beat ends after it): only a
        # newer one is kept.
        if topic.latest is not None and snapshot.version <= topic.latest.version:
            return
        topic.latest = snapshot
        for subscription in topic.subscribers:
            subscription.wake.set()

    def _reread(self, topic: Topic) -> None:
        if topic.app_id is None:
            topic.dirty = True  # no stream has found it yet: read again once one has
            return
        if topic.reading is not None:
            topic.dirty = True
            return
        topic.reading = asyncio.create_task(self._read_until_clean(topic))

    async def _read_until_clean(self, topic: Topic) -> None:
        assert topic.app_id is not None
        failures = 0
        try:
            while True:
                topic.dirty = False
                try:
                    async with self.opening:
                        view = await self._read(topic.app_id, topic.import_id)
                except Exception:  # the database is away: try again until it is back
                    if not failures:
                        log.warning("could not read import %s for its streams", topic.import_id)
                    await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
                    failures += 1
                    topic.dirty = True
                    continue
                failures = 0
                if view is not None:
                    self._offer(topic, Snapshot(view))
                if not topic.dirty:
                    return
        finally:
            topic.reading = None
