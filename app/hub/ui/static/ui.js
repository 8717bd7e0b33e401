/* The hub debugger: settings, subscribe, publish and active subscriptions.
 *
 * Everything received is rendered with textContent, never as HTML. The token typed in the
 * settings is kept in sessionStorage for this tab; in "cookie" mode it is also written to
 * the hub's authorization cookie (path = the hub's path) so that any page of this origin,
 * the live page included, subscribes with it. */
"use strict";

(() => {
  const body = document.body;
  const hubUrl = new URL(body.dataset.hub, location.href).href;
  const cookieName = body.dataset.cookieName;
  const cookiePath = new URL(hubUrl).pathname;
  const $ = (id) => document.getElementById(id);
  const lines = (text) => text.split(/\r\n|\r|\n/).map((s) => s.trim()).filter(Boolean);
  const STORAGE_KEY = "mercure-ui-jwt";
  const MAX_UPDATES = 200;

  $("hub-url").textContent = hubUrl;

  /* ---- settings ---- */
  const readCookie = () => {
    const prefix = cookieName + "=";
    const found = document.cookie.split("; ").find((c) => c.startsWith(prefix));
    return found ? decodeURIComponent(found.slice(prefix.length)) : "";
  };
  const authMode = () => document.querySelector('input[name="auth"]:checked').value;
  const token = () => $("jwt").value.trim();

  $("jwt").value = sessionStorage.getItem(STORAGE_KEY) || readCookie();

  $("settings-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const jwt = token();
    sessionStorage.setItem(STORAGE_KEY, jwt);
    if (authMode() === "cookie" && jwt) {
      document.cookie = `${cookieName}=${encodeURIComponent(jwt)}; path=${cookiePath}; SameSite=Strict`;
      $("token-status").textContent = `Saved; the ${cookieName} cookie is set.`;
    } else {
      document.cookie = `${cookieName}=; path=${cookiePath}; max-age=0; SameSite=Strict`;
      $("token-status").textContent = jwt
        ? "Saved; it will be sent as the authorization query parameter."
        : "No token: subscriptions are anonymous.";
    }
  });
  $("clear-token").addEventListener("click", () => {
    $("jwt").value = "";
    sessionStorage.removeItem(STORAGE_KEY);
    document.cookie = `${cookieName}=; path=${cookiePath}; max-age=0; SameSite=Strict`;
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
    topics.forEach((t) => url.searchParams.append("topic", t));
    const jwt = token();
    if (jwt && authMode() === "query") url.searchParams.set("authorization", jwt);
    const headers = {};
    const lastEventId = $("sub-last-event-id").value.trim();
    if (lastEventId) headers["Last-Event-ID"] = lastEventId;
    $("sub-status").textContent = "Connecting...";
    setSubscribed(true);
    stream = openEventStream(url.href, {
      headers,
      onOpen: async (response) => {
        if (response.ok) {
          const cursor = response.headers.get("Last-Event-ID");
          $("sub-status").textContent =
            `Subscribed to ${topics.length} selector(s)` +
            (cursor ? `; Last-Event-ID: ${cursor}` : "") + ".";
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
        subscription.topic,
        subscription.subscriber,
        JSON.stringify(subscription.payload ?? null),
      ]) {
        const cell = document.createElement("td");
        cell.textContent = value;
        row.appendChild(cell);
      }
      tbody.appendChild(row);
    }
    $("subs-status").textContent =
      `${(document_.subscriptions || []).length} active; lastEventID ${document_.lastEventID}.`;
  };
  if ($("subs-load")) {
    $("subs-load").addEventListener("click", () => {
      refresh().catch((error) => {
        $("subs-status").textContent = `Failed: ${error.message}`;
      });
    });
  }
})();
