// A Mercure 1.0 subscriber built from parts this project did not write: the WHATWG URL
// Pattern implementation of the `urlpattern-polyfill` package (what browsers ship as
// URLPattern) validates each pattern and tells which topics it matches, URLSearchParams
// builds the subscription URL, and the `eventsource` package reads the stream.
//
// node subscriber_v1.mjs HUB_URL TOKEN END_TOPIC PATTERN... -- TOPIC...
// Subscribes to every PATTERN (match_urlpattern) and to END_TOPIC (match), with TOKEN
// (when not "-") as `Authorization: Bearer`. Prints {"open": true, "expected": [...]}
// once connected, "expected" being the TOPICs that one of the patterns matches (relative
// patterns and topics resolved against HUB_URL, as the hub must), then one JSON line
// per event ({type, data, lastEventId}); exits after the event whose data is "end".
import { EventSource } from "eventsource";
import { URLPattern } from "urlpattern-polyfill/urlpattern";

const [hubUrl, token, endTopic, ...rest] = process.argv.slice(2);
const split = rest.indexOf("--");
const sources = rest.slice(0, split);
const topics = rest.slice(split + 1);
const patterns = sources.map((source) => new URLPattern(source, hubUrl));
const matches = (topic) => {
  try {
    return patterns.some((pattern) => pattern.test(topic, hubUrl));
  } catch (_) {
    return false; // not a URL: no pattern matches it
  }
};
const expected = topics.filter(matches);

const url = new URL(hubUrl);
for (const source of sources) url.searchParams.append("match_urlpattern", source);
url.searchParams.append("match", endTopic);
const headers = token && token !== "-" ? { Authorization: `Bearer ${token}` } : {};
const source = new EventSource(url.href, {
  fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...headers } }),
});
const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");
source.onopen = () => print({ open: true, expected });
source.onerror = (error) => {
  print({ error: String(error.message || error.code || error) });
  process.exit(2);
};
source.onmessage = (event) => {
  print({ type: event.type, data: event.data, lastEventId: event.lastEventId });
  if (event.data === "end") {
    source.close();
    process.exit(0);
  }
};
setTimeout(() => {
  print({ error: "timed out waiting for events" });
  process.exit(3);
}, 60_000);
