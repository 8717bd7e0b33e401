// A Mercure subscriber this project did not write: the `eventsource` npm package.
//
// node subscriber.mjs URL COUNT [TOKEN] [TYPE...]
// Prints {"open": true} once connected, then one JSON line per event
// ({type, data, lastEventId}) and exits after COUNT events. TOKEN, when not "-", is sent
// as `Authorization: Bearer` through the package's fetch hook. Event types to listen to
// besides "message" follow.
import { EventSource } from "eventsource";

const [url, count, token, ...types] = process.argv.slice(2);
let remaining = Number(count);
const headers = token && token !== "-" ? { Authorization: `Bearer ${token}` } : {};
const source = new EventSource(url, {
  fetch: (input, init) =>
    fetch(input, { ...init, headers: { ...init.headers, ...headers } }),
});
const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");
source.onopen = () => print({ open: true });
source.onerror = (error) => {
  print({ error: String(error.message || error.code || error) });
  process.exit(2);
};
const receive = (event) => {
  print({ type: event.type, data: event.data, lastEventId: event.lastEventId });
  remaining -= 1;
  if (remaining <= 0) {
    source.close();
    process.exit(0);
  }
};
source.addEventListener("message", receive);
for (const type of types) source.addEventListener(type, receive);
setTimeout(() => {
  print({ error: "timed out waiting for events" });
  process.exit(3);
}, 60_000);
