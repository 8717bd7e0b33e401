// Validates an AsyncAPI document with the official parser: node asyncapi_validate.mjs FILE
// Prints one JSON object: {"errors": [...], "warnings": [...], "channels": [...], "messages": [...]}
// and exits 0 when the document parsed without errors.
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(process.argv[2], "utf8"));
const describe = (d) => ({ code: d.code, message: d.message, path: d.path.join("/") });
const result = {
  errors: diagnostics.filter((d) => d.severity === 0).map(describe),
  warnings: diagnostics.filter((d) => d.severity === 1).map(describe),
  channels: document ? document.channels().all().map((c) => [c.id(), c.address()]) : [],
  messages: document ? document.messages().all().map((m) => m.id()) : [],
};
console.log(JSON.stringify(result));
process.exit(document && result.errors.length === 0 ? 0 : 1);
