// API Platform Admin as its documentation shows it: HydraAdmin on the API's entrypoint,
// with a data provider that sends the user's bearer token. The page's query string gives
// the entrypoint (`?entrypoint=https://localhost:8443`) and the token (`&token=...`).
import React from "react";
import { createRoot } from "react-dom/client";
import { HydraAdmin, fetchHydra, hydraDataProvider } from "@api-platform/admin";
import { parseHydraDocumentation } from "@api-platform/api-doc-parser";

const params = new URLSearchParams(window.location.search);
const entrypoint = params.get("entrypoint");
const token = params.get("token");

const httpClient = (url, options = {}) =>
  fetchHydra(url, {
    ...options,
    headers: new Headers({ Authorization: `Bearer ${token}` }),
  });

const dataProvider = hydraDataProvider({
  entrypoint,
  httpClient,
  apiDocumentationParser: parseHydraDocumentation,
  mercure: true,
});

createRoot(document.getElementById("root")).render(
  <HydraAdmin entrypoint={entrypoint} dataProvider={dataProvider} />,
);
