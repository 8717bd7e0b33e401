// Expands an error document of the API as API Platform Admin does (jsonld.js, its context
// fetched from the API), and prints the expanded document as one JSON line.
//
//   node expand_error.mjs URL [METHOD] [BODY]      (TOKEN: a bearer token to send)
//
// Like parse_docs.mjs, a request to another origin than the API's is refused.
import jsonld from "jsonld";

const [url, method = "GET", body] = process.argv.slice(2);
const origin = new URL(url).origin;
const requested = [];

const documentLoader = async (iri) => {
  const target = new URL(iri, url);
  requested.push(target.href);
  if (target.origin !== origin) {
    throw new Error(`refused to fetch ${target.href}: not on ${origin}`);
  }
  const response = await fetch(target, { headers: { Accept: "application/ld+json" } });
  return { contextUrl: null, documentUrl: target.href, document: await response.json() };
};

const headers = { Accept: "application/ld+json", "Content-Type": "application/ld+json" };
if (process.env.TOKEN) headers.Authorization = `Bearer ${process.env.TOKEN}`;
const response = await fetch(url, { method, body, headers });
const document = await response.json();
const expanded = await jsonld.expand(document, { base: url, documentLoader });
console.log(JSON.stringify({ status: response.status, requested, document, expanded }));
