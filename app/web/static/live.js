/* The live page: one table per resource, kept current by the Mercure hub.
 *
 * For each resource: GET its collection as JSON-LD, read the hub URL from the
 * Link: <...>; rel="mercure" header, then subscribe with EventSource to the resource's
 * absolute item IRI template. An update whose data carries more than @id/@type is the
 * item (create or update: upsert the row by @id); {"@id": ...} alone is a delete.
 * Everything is written with textContent, never as HTML. */
"use strict";

(() => {
  const config = JSON.parse(document.getElementById("live-config").textContent);
  const cookieName = document.body.dataset.cookieName;
  const root = document.getElementById("resources");

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

  function resourcePanel(resource) {
    const section = el("section", { class: "resource", id: `resource-${resource.name}` });
    const heading = el("div", { class: "heading" });
    heading.append(el("h2", {}, resource.name), el("code", {}, resource.route));
    const status = el("span", { class: "status", "data-state": "loading" }, "loading...");
    heading.append(status);
    section.append(heading);
    if (resource.private) {
      section.append(el("p", { class: "hint" },
        `Private updates: they arrive only with a subscriber token allowing ${resource.topic}, ` +
        `kept in the ${cookieName} cookie (see the README).`));
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
    const setStatus = (state, text) => {
      status.dataset.state = state;
      status.textContent = text;
    };
    return { upsert, remove, setStatus };
  }

  async function follow(resource) {
    const panel = resourcePanel(resource);
    let response;
    try {
      response = await fetch(resource.route, {
        headers: { Accept: "application/ld+json" },
        credentials: "same-origin",
      });
    } catch (error) {
      panel.setStatus("error", `cannot load: ${error.message}`);
      return;
    }
    if (!response.ok) {
      panel.setStatus("error", `cannot load: HTTP ${response.status}`);
      return;
    }
    const collection = await response.json();
    for (const item of collection.member || collection["hydra:member"] || []) {
      panel.upsert(item, false);
    }
    const hub = hubFromLink(response.headers.get("Link"));
    if (!resource.live || !hub) {
      panel.setStatus("static", "not live (no Mercure hub advertised)");
      return;
    }
    const url = new URL(hub);
    url.searchParams.append("topic", resource.topic);
    const source = new EventSource(url.href, { withCredentials: true });
    source.onopen = () => panel.setStatus("live", "live");
    source.onerror = () => panel.setStatus("reconnecting", "reconnecting...");
    source.onmessage = (event) => {
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

  for (const resource of config.resources) follow(resource);
})();
