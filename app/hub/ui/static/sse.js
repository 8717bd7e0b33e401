/* Server-Sent Events over fetch(), for the hub debugger.
 *
 * EventSource cannot send headers and only reports events whose type it was told in
 * advance; a debugger must show every event, send Last-Event-ID and read the response's
 * Last-Event-ID header. openEventStream(url, options) parses the stream as the HTML
 * standard says (lines split on CRLF, CR or LF; data lines joined with LF; ids with NUL
 * ignored) and calls options.onEvent({type, data, id, retry}) for each event,
 * options.onOpen(response) once the headers are in, options.onClose(error) at the end.
 * It returns {close()}. */
"use strict";

function openEventStream(url, options) {
  const controller = new AbortController();
  let closed = false;
  const finish = (error) => {
    if (!closed) {
      closed = true;
      if (options.onClose) options.onClose(error);
    }
  };

  (async () => {
    const response = await fetch(url, {
      headers: Object.assign({ Accept: "text/event-stream" }, options.headers || {}),
      credentials: "same-origin",
      cache: "no-store",
      signal: controller.signal,
    });
    if (options.onOpen) options.onOpen(response);
    if (!response.ok || !response.body) {
      finish(null);
      return;
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let event = { type: "", data: [], id: null, retry: null };
    const dispatch = () => {
      if (event.data.length) {
        options.onEvent({
          type: event.type || "message",
          data: event.data.join("\n"),
          id: event.id,
          retry: event.retry,
        });
      }
      event = { type: "", data: [], id: event.id, retry: null };
    };
    const line = (text) => {
      if (text === "") return dispatch();
      if (text.startsWith(":")) return;
      const colon = text.indexOf(":");
      const field = colon < 0 ? text : text.slice(0, colon);
      let value = colon < 0 ? "" : text.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") event.data.push(value);
      else if (field === "event") event.type = value;
      else if (field === "id" && !value.includes("\0")) event.id = value;
      else if (field === "retry" && /^\d+$/.test(value)) event.retry = Number(value);
    };
    let afterCR = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      // A CR ending the previous read and a LF starting this one are one CRLF.
      buffer += afterCR && value.startsWith("\n") ? value.slice(1) : value;
      afterCR = value.endsWith("\r");
      const parts = buffer.split(/\r\n|\r|\n/);
      buffer = parts.pop();
      parts.forEach(line);
    }
    finish(null);
  })().catch((error) => finish(controller.signal.aborted ? null : error));

  return {
    close() {
      controller.abort();
      finish(null);
    },
  };
}
