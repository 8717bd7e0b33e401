/* The live page: one table per resource, kept current by the Mercure hub.
 *
 * For each resource: GET its collection as JSON-LD, read the hub URL from the
 * Link: <...>; rel="mercure" header, then subscribe with EventSource to the resource's
 * absolute item IRI template. An update whose data carries more than @id/@type is the
 * item (create or update: upsert the row by @id); {"@id": ...} alone is a delete.
 * Everything is written with textContent, never as HTML.
 *
 * Signing in: the pasted bearer token lives in sessionStorage only (never in a cookie,
 * so the hub never receives it). It goes as "Authorization: Bearer" with the REST reads
 * and to GET /auth/mercure, whose answer sets the hub's HttpOnly cookie holding a
 * subscriber token; then every table is read again and its stream reopened, so private
 * updates of the items this user may read arrive. The subscriber token is renewed
 * before it expires. Signing out forgets the token, has the server expire the cookie
 * (HttpOnly: the page cannot), and reopens the streams without it. */
"use strict";

(() => {
  const config = JSON.parse(document.getElementById("live-config").textContent);
  const auth = config.auth;
  const cookieName = document.body.dataset.cookieName;
  const root = document.getElementById("resources");
  const STORAGE_KEY = "gateway.bearerToken";

  const el = (tag, attributes = {}, text = "") => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text) node.textContent = text;
    return node;
  };

  const hubFromLink = (header) => {
    for (const part of (header || "").split(/,(?=\s*<)/)) {
      const match = part.match(/<([^>]*)>(.*)/);
      const rel = match && match[2].match(/;\s*rel\s*=\s*"?([^";]*)"?/i);
      if (rel && rel[1].toLowerCase().split(/\s+/).includes("mercure")) {
        return new URL(match[1], location.href).href;
      }
    }
    return null;
  };

  const display = (value) => {
    if (value === null || value === undefined) return "";
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  };

  const isDeletion = (item) =>
    Object.keys(item).every((key) => key === "@id" || key === "@type");

  /* The bearer token of this tab. sessionStorage may be unavailable (privacy modes):
   * then the token lives only as long as the page. */
  const session = (() => {
    let memory = null;
    const storage = () => {
      try {
        return window.sessionStorage;
      } catch (_) {
        return null;
      }
    };
    return {
      get() {
        return storage()?.getItem(STORAGE_KEY) ?? memory;
      },
      set(token) {
        memory = token;
        storage()?.setItem(STORAGE_KEY, token);
      },
      clear() {
        memory = null;
        storage()?.removeItem(STORAGE_KEY);
      },
    };
  })();

  /* The token's claims, for display only (the server verifies them). */
  const claims = (token) => {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const bytes = Uint8Array.from(atob(part + "===".slice((part.length + 3) % 4)),
        (c) => c.charCodeAt(0));
      const value = JSON.parse(new TextDecoder().decode(bytes));
      return value && typeof value === "object" ? value : {};
    } catch (_) {
      return {};
    }
  };

  const problemDetail = async (response) => {
    try {
      const body = await response.json();
      if (body && typeof body.detail === "string") return body.detail;
    } catch (_) {
      /* not a problem document */
    }
    return `HTTP ${response.status}`;
  };

  function resourcePanel(resource) {
    const section = el("section", { class: "resource", id: `resource-${resource.name}` });
    const heading = el("div", { class: "heading" });
    heading.append(el("h2", {}, resource.name), el("code", {}, resource.route));
    const status = el("span", { class: "status", "data-state": "loading" }, "loading...");
    heading.append(status);
    section.append(heading);
    if (resource.private) {
      section.append(el("p", { class: "hint" }, auth.tokens
        ? "Private updates: once you sign in, those of the items you may read arrive here."
        : `Private updates: they arrive only with a subscriber token allowing ` +
          `${config.protocol === "1.0" ? resource.pattern : resource.topic}, kept in the ` +
          `${cookieName} cookie (see the security page of the documentation).`));
    }
    const table = el("table", { "data-resource": resource.name });
    const headRow = el("tr");
    for (const column of ["@id", ...resource.columns]) headRow.append(el("th", {}, column));
    const head = el("thead");
    head.append(headRow);
    table.append(head);
    const tbody = el("tbody");
    table.append(tbody);
    const empty = el("p", { class: "empty" }, "No items yet.");
    section.append(table, empty);
    root.append(section);

    const rows = new Map();
    const refreshEmpty = () => { empty.hidden = rows.size > 0; };
    const upsert = (item, flash) => {
      const iri = item["@id"];
      let row = rows.get(iri);
      if (!row) {
        row = el("tr", { "data-iri": iri });
        rows.set(iri, row);
        tbody.append(row);
      }
      row.replaceChildren(el("td", { class: "iri" }, iri),
        ...resource.columns.map((c) => el("td", { "data-column": c }, display(item[c]))));
      if (flash) {
        row.classList.remove("flash");
        void row.offsetWidth;
        row.classList.add("flash");
      }
      refreshEmpty();
    };
    const remove = (iri) => {
      const row = rows.get(iri);
      if (row) row.remove();
      rows.delete(iri);
      refreshEmpty();
    };
    const clear = () => {
      rows.clear();
      tbody.replaceChildren();
      refreshEmpty();
    };
    const setStatus = (state, text) => {
      status.dataset.state = state;
      status.textContent = text;
    };
    return { upsert, remove, clear, setStatus };
  }

  /* One resource's table and stream. start(token) reads the collection again (as the
   * token's user, or anonymously) and reopens the stream; a later start() supersedes an
   * earlier one still under way. */
  function follower(resource) {
    const panel = resourcePanel(resource);
    let source = null;
    let generation = 0;

    async function start(token) {
      const mine = ++generation;
      if (source) source.close();
      source = null;
      panel.clear();
      panel.setStatus("loading", "loading...");
      const headers = { Accept: "application/ld+json" };
      if (token) headers.Authorization = `Bearer ${token}`;
      let response, collection;
      try {
        response = await fetch(resource.route, {
          headers, credentials: "same-origin", cache: "no-store",
        });
        if (response.ok) collection = await response.json();
      } catch (error) {
        if (mine === generation) panel.setStatus("error", `cannot load: ${error.message}`);
        return;
      }
      if (mine !== generation) return;
      if (response.status === 401) {
        panel.setStatus("locked", token ? "token refused: sign in again" : "sign in to read");
        return;
      }
      if (response.status === 403) {
        panel.setStatus("locked", "not allowed for this user");
        return;
      }
      if (!response.ok) {
        panel.setStatus("error", `cannot load: HTTP ${response.status}`);
        return;
      }
      for (const item of collection.member || collection["hydra:member"] || []) {
        panel.upsert(item, false);
      }
      const hub = hubFromLink(response.headers.get("Link"));
      if (!resource.live || !hub) {
        panel.setStatus("static", "not live (no Mercure hub advertised)");
        return;
      }
      const url = new URL(hub);
      // Mercure 1.0 when the hub speaks it: a URL Pattern; else a 0.x URI template.
      if (config.protocol === "1.0") url.searchParams.append("match_urlpattern", resource.pattern);
      else url.searchParams.append("topic", resource.topic);
      // Same origin: the hub's authorization cookie, when set, goes with the request.
      const stream = new EventSource(url.href, { withCredentials: true });
      source = stream;
      stream.onopen = () => panel.setStatus("live", "live");
      stream.onerror = () => panel.setStatus("reconnecting", "reconnecting...");
      stream.onmessage = (event) => {
        let item;
        try {
          item = JSON.parse(event.data);
        } catch (_) {
          return;
        }
        if (!item || typeof item["@id"] !== "string") return;
        if (isDeletion(item)) panel.remove(item["@id"]);
        else panel.upsert(item, true);
      };
    }

    return { start };
  }

  const followers = config.resources.map(follower);
  const reloadAll = (token) => { for (const f of followers) f.start(token); };

  if (!auth.enabled) {
    reloadAll(null);
    return;
  }

  const form = document.getElementById("sign-in");
  const input = document.getElementById("bearer-token");
  const signedIn = document.getElementById("signed-in");
  const signedInAs = document.getElementById("signed-in-as");
  const signOutButton = document.getElementById("sign-out");
  const authStatus = document.getElementById("auth-status");
  let renewal = null;

  const showSignedIn = (token) => {
    const user = claims(token);
    signedInAs.textContent = typeof user.sub === "string" ? user.sub : "(unknown user)";
    form.hidden = true;
    signedIn.hidden = false;
    authStatus.textContent = "";
    document.body.dataset.user = signedInAs.textContent;
  };

  const showSignedOut = (message) => {
    form.hidden = false;
    signedIn.hidden = true;
    authStatus.textContent = message || "";
    delete document.body.dataset.user;
  };

  /* GET /auth/mercure as the token's user: sets the hub's cookie. Resolves to
   * {ok: true} or {ok: false, reason}. */
  async function subscriberToken(token) {
    if (!auth.tokens) return { ok: true };
    let response;
    try {
      response = await fetch(auth.tokens, {
        headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch (error) {
      return { ok: false, reason: error.message, retry: true };
    }
    if (!response.ok) return { ok: false, reason: await problemDetail(response) };
    const body = await response.json();
    scheduleRenewal(token, body.expiresAt);
    return { ok: true };
  }

  /* Renew the subscriber token shortly before it expires; if the user's token has
   * expired too, the page signs out. */
  function scheduleRenewal(token, expiresAt) {
    const left = Date.parse(expiresAt) - Date.now();
    if (Number.isFinite(left)) renewIn(token, Math.max(5000, left - Math.min(60000, left / 10)));
  }

  function renewIn(token, delay) {
    clearTimeout(renewal);
    renewal = setTimeout(async () => {
      if (session.get() !== token) return;
      const result = await subscriberToken(token);
      if (result.ok || session.get() !== token) return;
      if (result.retry) renewIn(token, 30000);
      else signOut(`Signed out: ${result.reason}`);
    }, delay);
  }

  async function signIn(token) {
    authStatus.textContent = "Signing in...";
    const result = await subscriberToken(token);
    if (!result.ok) return result;
    session.set(token);
    showSignedIn(token);
    reloadAll(token);
    return result;
  }

  async function signOut(message) {
    clearTimeout(renewal);
    session.clear();
    if (auth.signOut) {
      try {
        await fetch(auth.signOut, { method: "POST", credentials: "same-origin" });
      } catch (_) {
        /* the cookie expires with the subscriber token anyway */
      }
    }
    showSignedOut(message);
    reloadAll(null);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim().replace(/^bearer\s+/i, "");
    if (!token) {
      authStatus.textContent = "Paste a bearer token first.";
      return;
    }
    input.value = "";
    const result = await signIn(token);
    if (!result.ok) authStatus.textContent = `Sign-in refused: ${result.reason}`;
  });
  signOutButton.addEventListener("click", () => signOut(""));

  const stored = session.get();
  if (stored) {
    signIn(stored).then((result) => {
      if (!result.ok) signOut(`Signed out: ${result.reason}`);
    });
  } else {
    reloadAll(null);
  }
})();
