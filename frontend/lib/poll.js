// Polling that follows the work: once a second while something runs, every ten seconds when
// idle, never two requests at once, paused while the tab is hidden, stopped with the page.

export function poll(load, { activeMs = 1000, idleMs = 10000 } = {}) {
  let timer = null;
  let stopped = false;
  let busy = false;

  async function tick() {
    if (stopped || busy) return;
    busy = true;
    let active = false;
    try {
      active = Boolean(await load());
    } catch {
      active = false; // a failed poll waits for the slow pace; a 401 has already signed out
    } finally {
      busy = false;
    }
    if (!stopped) timer = setTimeout(tick, document.hidden ? idleMs : active ? activeMs : idleMs);
  }

  function onVisible() {
    if (!document.hidden && !stopped) {
      clearTimeout(timer);
      tick();
    }
  }
  document.addEventListener("visibilitychange", onVisible);
  tick();
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisible);
  };
  // Poll at once (something changed elsewhere); a request under way is not doubled.
  stop.now = () => {
    if (stopped) return;
    clearTimeout(timer);
    tick();
  };
  return stop;
}
