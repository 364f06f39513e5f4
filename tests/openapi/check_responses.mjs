// SPDX-License-Identifier: Apache-2.0
// Checks real responses against docs/openapi.yaml. EXCHANGES is a JSON array of
// {method, path, status, contentType, body} that TestOpenApiResponses recorded from a running
// server, `path` as the document spells it ("/api/sessions/{id}"). Each status must be
// documented for its operation, and a JSON body must match that response's schema (Ajv, JSON
// Schema 2020-12). Every documented operation must appear with a 2xx and, where the document
// lists any, a 4xx status. Usage: node check_responses.mjs --npm-dir DIR SPEC EXCHANGES
import fs from "node:fs";
import { loadPackages, makeAjv, parseArgs } from "./openapi-ajv.mjs";

const { npmDir, rest } = parseArgs(process.argv);
const [specFile, exchangesFile] = rest;
const packages = loadPackages(npmDir);
const api = await packages.SwaggerParser.dereference(specFile);
const exchanges = JSON.parse(fs.readFileSync(exchangesFile, "utf8"));
const ajv = makeAjv(packages);
const validators = new Map();
const errors = [];
const seen = new Map(); // "METHOD path" -> Set of statuses

for (const x of exchanges) {
  const where = `${x.method} ${x.path} -> ${x.status}`;
  const op = api.paths[x.path]?.[x.method.toLowerCase()];
  if (!op) {
    errors.push(`${where}: operation not documented`);
    continue;
  }
  const key = `${x.method} ${x.path}`;
  if (!seen.has(key)) seen.set(key, new Set());
  seen.get(key).add(String(x.status));
  const response = op.responses[String(x.status)] ?? op.responses.default;
  if (!response) {
    errors.push(`${where}: status not documented (documented: ${Object.keys(op.responses).join(", ")})`);
    continue;
  }
  const content = response.content ?? {};
  if (Object.keys(content).length === 0) continue;
  const mediaType = (x.contentType ?? "").split(";")[0].trim();
  const media = content[mediaType];
  if (!media) {
    errors.push(`${where}: Content-Type ${mediaType || "(none)"} not documented (${Object.keys(content).join(", ")})`);
    continue;
  }
  if (!media.schema || mediaType !== "application/json") continue;
  const id = `${key} ${x.status} ${mediaType}`;
  if (!validators.has(id)) {
    try {
      validators.set(id, ajv.compile(media.schema));
    } catch (e) {
      validators.set(id, null);
      errors.push(`${id}: the schema does not compile: ${e.message}`);
    }
  }
  const validate = validators.get(id);
  if (!validate) continue;
  let body;
  try {
    body = JSON.parse(x.body);
  } catch (e) {
    errors.push(`${where}: body is not JSON: ${e.message}`);
    continue;
  }
  if (!validate(body)) {
    const detail = validate.errors.map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ");
    errors.push(`${where}: body does not match the schema: ${detail}\n    body: ${x.body.slice(0, 400)}`);
  }
}

let checkedStatuses = 0;
for (const [p, item] of Object.entries(api.paths)) {
  for (const [method, op] of Object.entries(item)) {
    const key = `${method.toUpperCase()} ${p}`;
    const statuses = seen.get(key) ?? new Set();
    checkedStatuses += statuses.size;
    if (![...statuses].some((s) => s.startsWith("2"))) errors.push(`${key}: no success response was checked`);
    const documented4xx = Object.keys(op.responses).filter((s) => s.startsWith("4"));
    if (documented4xx.length && ![...statuses].some((s) => s.startsWith("4")))
      errors.push(`${key}: none of its documented errors (${documented4xx.join(", ")}) was checked`);
  }
}
for (const e of errors) console.error(`FAIL: ${e}`);
console.log(`${exchanges.length} responses, ${seen.size} operations, ${checkedStatuses} (operation, status) pairs checked against ${specFile}`);
process.exit(errors.length ? 1 : 0);
