// API Platform's documentation parser (@api-platform/api-doc-parser) run on a served API:
// prints, as one JSON line, every resource it found with its fields and operations.
//
//   node parse_docs.mjs hydra   https://host/            (the entrypoint; its Link header
//                                                        leads to /docs.jsonld)
//   node parse_docs.mjs openapi https://host/docs.jsonopenapi https://host/
//
// The parser may not use the network: every request it makes is listed in the output
// (`requested`), and one to another origin than the API's is refused.
import {
  parseHydraDocumentation,
  parseOpenApi3Documentation,
} from "@api-platform/api-doc-parser";

const [mode, url, entrypoint = url] = process.argv.slice(2);
const origin = new URL(url).origin;
const requested = [];
const networkFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const target = new URL(typeof input === "string" ? input : input.url ?? String(input));
  requested.push(target.href);
  if (target.origin !== origin) {
    return Promise.reject(new Error(`refused to fetch ${target.href}: not on ${origin}`));
  }
  return networkFetch(input, init);
};

const nameOf = (resource) =>
  resource === null || resource === undefined
    ? null
    : typeof resource === "string"
      ? resource
      : resource.title ?? resource.name;

const summary = (api) => ({
  title: api.title ?? null,
  resources: api.resources.map((resource) => ({
    name: resource.name,
    title: resource.title,
    url: resource.url,
    id: resource.id ?? null,
    fields: (resource.fields ?? []).map((field) => ({
      name: field.name,
      id: field.id ?? null,
      range: field.range ?? null,
      type: field.type ?? null,
      required: field.required ?? null,
      reference: nameOf(field.reference),
      maxCardinality: field.maxCardinality ?? null,
    })),
    readable: (resource.readableFields ?? []).map((field) => field.name),
    writable: (resource.writableFields ?? []).map((field) => field.name),
    operations: (resource.operations ?? []).map((operation) => ({
      name: operation.name,
      type: operation.type,
      method: operation.method ?? null,
    })),
  })),
});

try {
  const { api } =
    mode === "openapi"
      ? await parseOpenApi3Documentation(url)
      : await parseHydraDocumentation(url);
  console.log(JSON.stringify({ requested, api: summary(api) }));
} catch (error) {
  const reason = error?.api ? "the parser could not read the documentation" : String(error);
  console.log(JSON.stringify({ requested, error: reason, detail: String(error?.stack ?? error) }));
  process.exitCode = 1;
}
