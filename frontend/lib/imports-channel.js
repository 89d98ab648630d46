// Tabs of the same browser tell each other when this user changes an import: the Add Imports
// dialog opens in its own tab, and the list it came from should show the new import at once,
// not at its next idle poll.
const NAME = "caseimport-imports";

export function announceImportsChanged(slug) {
  if (typeof BroadcastChannel === "undefined") return;
  const channel = new BroadcastChannel(NAME);
  channel.postMessage({ slug });
  channel.close();
}

// Calls `callback` when another tab changed an import of this app; answers the unsubscribe.
export function onImportsChanged(slug, callback) {
  if (typeof BroadcastChannel === "undefined") return () => {};
  const channel = new BroadcastChannel(NAME);
  channel.onmessage = (event) => {
    if (event.data && event.data.slug === slug) callback();
  };
  return () => channel.close();
}
