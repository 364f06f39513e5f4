// SPDX-License-Identifier: Apache-2.0
// Shared by validate_spec.mjs and check_responses.mjs: loads the npm packages from the folder
// tests/openapi/install-validators.sh filled (argv's --npm-dir), and builds an Ajv for
// OpenAPI 3.1 schemas (JSON Schema 2020-12, strict, with OpenAPI's own keywords allowed).
import { createRequire } from "node:module";
import path from "node:path";

export function loadPackages(npmDir) {
  const require = createRequire(path.join(path.resolve(npmDir), "package.json"));
  return {
    SwaggerParser: require("@apidevtools/swagger-parser"),
    Ajv2020: require("ajv/dist/2020").default,
    addFormats: require("ajv-formats").default,
  };
}

export function makeAjv({ Ajv2020, addFormats }) {
  const ajv = new Ajv2020({ strict: true, allErrors: true, validateFormats: true });
  addFormats(ajv);
  // OpenAPI 3.1 Schema Object keywords that are not JSON Schema's.
  ajv.addVocabulary(["discriminator", "xml", "externalDocs", "example"]);
  return ajv;
}

// --npm-dir DIR first, then the positional arguments.
export function parseArgs(argv) {
  const args = argv.slice(2);
  if (args[0] !== "--npm-dir" || !args[1]) {
    console.error("usage: node SCRIPT --npm-dir DIR ...");
    process.exit(2);
  }
  return { npmDir: args[1], rest: args.slice(2) };
}
