// Follows one import: its server-sent events (GET .../events) while the server sends them,
// polling (lib/poll.js) when it cannot. The browser's EventSource reconnects by itself after a
// dropped connection, sending the last event's id so that nothing is sent twice; an answer
// that is not a stream (401, 404, 503, or 204 when the last state seen was the final one)
// closes it, and polling takes over; so do three failed connections in a row (a proxy that
// will not pass a stream). The stream is closed once the import is finished, but a finished
// import can still change where no event tells (its plan applied, itself reverted or given a
// corrected file, by another tab or a script): it is read again when another tab says an import
// changed and when this tab is shown again, and followed anew if it runs again.

import { poll } from "./poll.js";

// `events`: the stream's address; `load`: one read of the import, which shows it and its own
// failure, and answers whether the import is active; `onItem`: called with the import object of
// each event; `finished(item)`: the stream ends; `changedElsewhere(callback)`: calls back when
// another tab changed an import, and answers the unsubscribe. Answers the stop.
export function follow({ events, load, onItem, finished, changedElsewhere = () => () => {} }) {
  let source = null;
  let failures = 0;
  let stopPolling = null;
  let stopWatching = null;

  function close() {
    if (source) source.close();
    source = null;
  }
  function startPolling() {
    const stop = poll(load);
    const unsubscribe = changedElsewhere(stop.now);
    stopPolling = () => { stop(); unsubscribe(); };
  }
  function onEvent(event) {
    failures = 0;
    const item = JSON.parse(event.data);
    onItem(item);
    if (finished(item)) {
      close();
      watch();
    }
  }
  function stream() {
    failures = 0;
    source = new EventSource(events); // same origin: the session cookie goes with it
    source.addEventListener("status", onEvent);
    source.addEventListener("progress", onEvent);
    source.addEventListener("error", () => {
      failures += 1;
      if (source && (source.readyState === EventSource.CLOSED || failures >= 3)) {
        close();
        startPolling();
      }
    });
  }
  // The finished import, read again when it may have changed; running again, it is followed.
  function watch() {
    async function reread() {
      if (document.hidden || !stopWatching) return;
      if (await load() && stopWatching) {
        stopWatching();
        stream();
      }
    }
    const unsubscribe = changedElsewhere(reread);
    document.addEventListener("visibilitychange", reread);
    stopWatching = () => {
      stopWatching = null;
      unsubscribe();
      document.removeEventListener("visibilitychange", reread);
    };
  }

  if (typeof EventSource === "undefined") startPolling();
  else stream();
  return () => {
    close();
    if (stopPolling) stopPolling();
    if (stopWatching) stopWatching();
  };
}
