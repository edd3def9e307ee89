// Which congress a console page works on, for /checkin and /rounds: jp.congressId() (?congress=
// in the address, else the official's own); the secretariat, whose session has no congress,
// picks one from GET /api/congresses (the only one is taken at once). The choice goes into the
// address so that a reload stays on it. (Belongs in console.js once every page needs it.)
"use strict";
window.congressPick = {
  // {congresses, id}: id is null while the secretariat has not chosen among several.
  async load() {
    const congresses = await jp.api("GET", "/api/congresses");
    let id = jp.congressId();
    if (!id && congresses.length === 1) id = congresses[0].id;
    return { congresses, id };
  },
  choose(id) {
    const url = new URL(location.href);
    url.searchParams.set("congress", String(id));
    history.replaceState(null, "", url);
  },
  name(congresses, id) {
    const found = congresses.find((c) => c.id === id);
    return found ? found.name : "";
  },
};
