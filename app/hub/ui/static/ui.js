/* The hub debugger: settings, subscribe, publish and active subscriptions, in Mercure 1.0
 * (match / match_urlpattern parameters, access tokens, Mercure-Last-Event-ID, the 1.0
 * cookie) or 0.x (topic parameters, the mercure claim), as chosen in the settings.
 *
 * Everything received is rendered with textContent, never as HTML. The token typed in the
 * settings is kept in sessionStorage for this tab; in "cookie" mode it is also written to
 * the hub's authorization cookie (path = the hub's path) so that any page of this origin,
 * the live page included, subscribes with it. */
"use strict";

(() => {
  const body = document.body;
  const hubUrl = new URL(body.dataset.hub, location.href).href;
  const cookieNames = { "0.x": body.dataset.cookieName, "1.0": body.dataset.accessTokenCookie };
  const protocols = (body.dataset.protocols || "0.x").split(" ");
  const cookiePath = new URL(hubUrl).pathname;
  const $ = (id) => document.getElementById(id);
  const lines = (text) => text.split(/\r\n|\r|\n/).map((s) => s.trim()).filter(Boolean);
  const STORAGE_KEY = "mercure-ui-jwt";
  const MAX_UPDATES = 200;

  $("hub-url").textContent = hubUrl;

  /* ---- protocol ---- */
  const protocol = () => document.querySelector('input[name="protocol"]:checked').value;
  let cookieName = cookieNames["0.x"];
  const cookie = (value, extra) =>
    `${cookieName}=${value}; path=${cookiePath}; SameSite=Strict` +
    (cookieName.startsWith("__Secure-") ? "; Secure" : "") + (extra || "");
  const showProtocol = () => {
    const v1 = protocol() === "1.0";
    cookieName = cookieNames[protocol()];
    $("cookie-label").textContent = cookieName;
    $("query-choice").hidden = v1;
    if (v1 && authMode() === "query") document.querySelector('input[name="auth"][value="header"]').checked = true;
    $("match-type-choice").hidden = !v1;
    $("sub-topics-label").textContent = v1
      ? "Matchers (one per line: a URL Pattern, an exact topic or *)"
      : "Topic selectors (one per line: exact topic, URI template or *)";
    const topics = $("sub-topics");
    if (v1 && topics.value === "https://example.com/books/{id}") topics.value = "https://example.com/books/:id";
    if (!v1 && topics.value === "https://example.com/books/:id") topics.value = "https://example.com/books/{id}";
  };
  for (const input of document.querySelectorAll('input[name="protocol"]')) {
    input.disabled = !protocols.includes(input.value);
    input.checked = input.value === body.dataset.protocol;
    input.addEventListener("change", showProtocol);
  }

  /* ---- settings ---- */
  const readCookie = () => {
    const prefix = cookieName + "=";
    const found = document.cookie.split("; ").find((c) => c.startsWith(prefix));
    return found ? decodeURIComponent(found.slice(prefix.length)) : "";
  };
  const authMode = () => document.querySelector('input[name="auth"]:checked').value;
  const token = () => $("jwt").value.trim();

  showProtocol();
  $("jwt").value = sessionStorage.getItem(STORAGE_KEY) || readCookie();

  $("settings-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const jwt = token();
    sessionStorage.setItem(STORAGE_KEY, jwt);
    if (authMode() === "cookie" && jwt) {
      document.cookie = cookie(encodeURIComponent(jwt));
      $("token-status").textContent = `Saved; the ${cookieName} cookie is set.`;
    } else {
      document.cookie = cookie("", "; max-age=0");
      const how = authMode() === "header" ? "the Authorization header" : "the authorization query parameter";
      $("token-status").textContent = jwt
        ? `Saved; it will be sent as ${how}.`
        : "No token: subscriptions are anonymous.";
    }
  });
  $("clear-token").addEventListener("click", () => {
    $("jwt").value = "";
    sessionStorage.removeItem(STORAGE_KEY);
    document.cookie = cookie("", "; max-age=0");
    $("token-status").textContent = "Token forgotten.";
  });

  /* ---- subscribe ---- */
  let stream = null;
  const setSubscribed = (on) => {
    $("sub-start").disabled = on;
    $("sub-stop").disabled = !on;
  };
  const pretty = (data) => {
    try {
      return JSON.stringify(JSON.parse(data), null, 2);
    } catch (_) {
      return data;
    }
  };
  const showUpdate = (update) => {
    const item = document.createElement("li");
    item.className = "update";
    const meta = document.createElement("div");
    meta.className = "meta";
    const fields = [
      ["time", new Date().toLocaleTimeString()],
      ["type", update.type],
      ["id", update.id || ""],
    ];
    if (update.retry !== null) fields.push(["retry", String(update.retry)]);
    for (const [name, value] of fields) {
      const span = document.createElement("span");
      span.className = name;
      span.textContent = value;
      meta.appendChild(span);
    }
    const data = document.createElement("pre");
    data.className = "data";
    data.textContent = pretty(update.data);
    item.append(meta, data);
    $("updates").prepend(item);
    while ($("updates").children.length > MAX_UPDATES) $("updates").lastChild.remove();
    $("sub-last-event-id").placeholder = `last received: ${update.id || ""}`;
  };

  $("subscribe-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (stream) stream.close();
    const topics = lines($("sub-topics").value);
    const url = new URL(hubUrl);
    const v1 = protocol() === "1.0";
    const parameter = !v1 ? "topic" : $("sub-match-type").value === "exact" ? "match" : "match_urlpattern";
    topics.forEach((t) => url.searchParams.append(parameter, t));
    const jwt = token();
    if (jwt && authMode() === "query" && !v1) url.searchParams.set("authorization", jwt);
    const headers = {};
    if (jwt && authMode() === "header") headers.Authorization = `Bearer ${jwt}`;
    const lastEventId = $("sub-last-event-id").value.trim();
    if (lastEventId) headers["Last-Event-ID"] = lastEventId;
    $("sub-status").textContent = "Connecting...";
    setSubscribed(true);
    stream = openEventStream(url.href, {
      headers,
      onOpen: async (response) => {
        if (response.ok) {
          const field = v1 ? "Mercure-Last-Event-ID" : "Last-Event-ID";
          const cursor = response.headers.get(field);
          $("sub-status").textContent =
            `Subscribed to ${topics.length} ${v1 ? "matcher" : "selector"}(s)` +
            (cursor ? `; ${field}: ${cursor}` : "") + ".";
        } else {
          $("sub-status").textContent =
            `Refused: ${response.status} ${(await response.text()).trim()}`;
        }
      },
      onEvent: showUpdate,
      onClose: (error) => {
        setSubscribed(false);
        stream = null;
        if (error) $("sub-status").textContent = `Disconnected: ${error.message}`;
        else if (/^(Connecting|Subscribed)/.test($("sub-status").textContent)) {
          $("sub-status").textContent = "Not subscribed.";
        }
      },
    });
  });
  $("sub-stop").addEventListener("click", () => {
    if (stream) stream.close();
    $("sub-status").textContent = "Not subscribed.";
  });
  $("sub-clear").addEventListener("click", () => {
    $("updates").replaceChildren();
  });

  /* ---- publish ---- */
  $("publish-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new URLSearchParams();
    lines($("pub-topics").value).forEach((t) => form.append("topic", t));
    form.append("data", $("pub-data").value);
    if ($("pub-private").checked) form.append("private", "on");
    for (const [id, name] of [["pub-id", "id"], ["pub-type", "type"], ["pub-retry", "retry"]]) {
      const value = $(id).value.trim();
      if (value) form.append(name, value);
    }
    const headers = {};
    if (token()) headers.Authorization = `Bearer ${token()}`;
    $("pub-status").textContent = "Publishing...";
    try {
      const response = await fetch(hubUrl, {
        method: "POST",
        body: form,
        headers,
        credentials: "same-origin",
      });
      const text = (await response.text()).trim();
      $("pub-status").textContent = response.ok
        ? `Published: ${text}`
        : `Refused: ${response.status} ${text}`;
    } catch (error) {
      $("pub-status").textContent = `Failed: ${error.message}`;
    }
  });

  /* ---- active subscriptions ---- */
  const refresh = async () => {
    const headers = {};
    if (token()) headers.Authorization = `Bearer ${token()}`;
    $("subs-status").textContent = "Loading...";
    const response = await fetch(`${hubUrl}/subscriptions`, {
      headers,
      credentials: "same-origin",
    });
    const tbody = document.querySelector("#subs-table tbody");
    tbody.replaceChildren();
    if (!response.ok) {
      $("subs-status").textContent =
        `Refused: ${response.status} ${(await response.text()).trim()}`;
      return;
    }
    const document_ = await response.json();
    for (const subscription of document_.subscriptions || []) {
      const row = document.createElement("tr");
      for (const value of [
        subscription.topic ?? `${subscription.match_type} ${subscription.match}`,
        subscription.subscriber,
        JSON.stringify(subscription.payload ?? null),
      ]) {
        const cell = document.createElement("td");
        cell.textContent = value;
        row.appendChild(cell);
      }
      tbody.appendChild(row);
    }
    // 0.x has the cursor in the document, 1.0 in the Link header.
    const link = /last-event-id="([^"]*)"/.exec(response.headers.get("Link") || "");
    const cursor = document_.lastEventID ?? (link ? link[1] : "");
    $("subs-status").textContent =
      `${(document_.subscriptions || []).length} active; lastEventID ${cursor}.`;
  };
  if ($("subs-load")) {
    $("subs-load").addEventListener("click", () => {
      refresh().catch((error) => {
        $("subs-status").textContent = `Failed: ${error.message}`;
      });
    });
  }
})();
