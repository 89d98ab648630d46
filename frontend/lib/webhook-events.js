// The events a webhook endpoint is sent (docs/webhooks.md), as people say them; the test event
// is sent on request only, so no endpoint subscribes to it.
export const SUBSCRIBABLE = [
  ["import.completed", "Import completed"],
  ["import.failed", "Import failed"],
  ["import.cancelled", "Import cancelled"],
  ["import.reverted", "Import reverted"],
];
const LABELS = new Map([...SUBSCRIBABLE, ["webhook.test", "Test event"]]);

export const eventLabel = (type) => LABELS.get(type) || type;
