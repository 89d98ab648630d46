// Follows one import: its server-sent events (GET .../events) while the server sends them,
// polling (lib/poll.js) when it cannot. The browser's EventSource reconnects by itself after a
// dropped connection, sending the last event's id so that nothing is sent twice; an answer
// that is not a stream (401, 404, 503, or 204 when the last state seen was the final one)
// closes it, and polling takes over; so do three failed connections in a row (a proxy that
// will not pass a stream). The stream is closed once the import is finished.

import { poll } from "./poll.js";

// `events`: the stream's address; `load`: one poll (answers whether the import is active);
// `onItem`: called with the import object of each event; `finished(item)`: stop following.
export function follow({ events, load, onItem, finished }) {
  if (typeof EventSource === "undefined") return poll(load);
  let source = new EventSource(events); // same origin: the session cookie goes with it
  let stopPolling = null;
  let failures = 0;

  function close() {
    if (source) source.close();
    source = null;
  }
  function onEvent(event) {
    failures = 0;
    const item = JSON.parse(event.data);
    onItem(item);
    if (finished(item)) close();
  }
  source.addEventListener("status", onEvent);
  source.addEventListener("progress", onEvent);
  source.addEventListener("error", () => {
    failures += 1;
    if (source && (source.readyState === EventSource.CLOSED || failures >= 3)) {
      close();
      stopPolling = poll(load);
    }
  });
  return () => {
    close();
    if (stopPolling) stopPolling();
  };
}
