// SPDX-License-Identifier: Apache-2.0
// Validates an OpenAPI document with outside tools: @apidevtools/swagger-parser checks it against
// the official OpenAPI 3.1 schema and resolves every $ref; Ajv (JSON Schema 2020-12, strict)
// then compiles every schema in it, which catches what the OpenAPI schema leaves to the dialect
// (an unknown `type`, a misspelt keyword).
// Usage: node validate_spec.mjs --npm-dir DIR docs/openapi.yaml
import { loadPackages, makeAjv, parseArgs } from "./openapi-ajv.mjs";

const { npmDir, rest } = parseArgs(process.argv);
const file = rest[0];
const packages = loadPackages(npmDir);
const errors = [];
let api;
try {
  api = await packages.SwaggerParser.validate(file);
  if (!String(api.openapi).startsWith("3.1")) errors.push(`openapi is ${api.openapi}, expected 3.1.x`);
} catch (e) {
  errors.push(`swagger-parser: ${e.message}`);
}
if (api) {
  const ajv = makeAjv(packages);
  const check = (where, schema) => {
    try {
      ajv.compile(schema);
    } catch (e) {
      errors.push(`${where}: ${e.message}`);
    }
  };
  for (const [name, schema] of Object.entries(api.components?.schemas ?? {})) check(`components.schemas.${name}`, schema);
  for (const [p, item] of Object.entries(api.paths)) {
    for (const [method, op] of Object.entries(item)) {
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        for (const [type, media] of Object.entries(response.content ?? {}))
          if (media.schema) check(`${method.toUpperCase()} ${p} ${status} ${type}`, media.schema);
      }
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {}))
        if (media.schema) check(`${method.toUpperCase()} ${p} request ${type}`, media.schema);
    }
  }
}
if (errors.length) {
  for (const e of errors) console.error(`${file}: INVALID: ${e}`);
  process.exit(1);
}
const operations = Object.values(api.paths).reduce((n, item) => n + Object.keys(item).length, 0);
console.log(`${file}: valid OpenAPI ${api.openapi} (${operations} operations, every schema compiles)`);
