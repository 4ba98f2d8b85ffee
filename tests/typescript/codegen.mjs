// Generates the TypeScript a frontend team would: graphql-codegen's `typescript-operations`
// plugin (since codegen 6 it writes the enum and input types an operation uses itself; with the
// `typescript` plugin beside it they would be declared twice) over the schema and operations
// given, with every custom scalar mapped to its wire type (strictScalars: an unmapped scalar is an
// error, not a silent `any`).
// Usage: node codegen.mjs SCHEMA.graphql OPERATIONS.graphql SCALARS.json OUT.ts
import { readFileSync, writeFileSync } from "node:fs";
import { codegen } from "@graphql-codegen/core";
import * as operations from "@graphql-codegen/typescript-operations";
import { buildSchema, parse } from "graphql";

const [schemaFile, operationsFile, scalarsFile, outFile] = process.argv.slice(2);
const schema = buildSchema(readFileSync(schemaFile, "utf8"));
const document = parse(readFileSync(operationsFile, "utf8"));
const output = await codegen({
  schema: parse(readFileSync(schemaFile, "utf8")),
  schemaAst: schema,
  documents: [{ location: operationsFile, document }],
  filename: outFile,
  plugins: [{ typescriptOperations: {} }],
  pluginMap: { typescriptOperations: operations },
  config: {
    strictScalars: true,
    scalars: JSON.parse(readFileSync(scalarsFile, "utf8")),
    enumsAsTypes: true,
    avoidOptionals: false,
  },
});
writeFileSync(outFile, output);
