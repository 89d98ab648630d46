// Requests for one table may cross (a poll meeting a page change, filters changed quickly):
// each request takes a ticket, and only the newest ticket's answer may be shown.
export function tickets() {
  let newest = 0;
  return () => {
    const ticket = ++newest;
    return () => ticket === newest;
  };
}
