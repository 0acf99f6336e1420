import { readFileSync } from 'node:fs';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv ships CommonJS: take the class whichever way the loader hands it over.
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as typeof addFormatsModule;

const core = JSON.parse(readFileSync(new URL('../src/metadata/schemas/OpenLineage.json', import.meta.url), 'utf8')) as Record<string, unknown> & { definitions: Record<string, unknown> };
const schemaFacet = JSON.parse(readFileSync(new URL('../src/metadata/schemas/SchemaDatasetFacet.json', import.meta.url), 'utf8')) as Record<string, unknown>;

/** Validators for run events and schema facets, from the vendored OpenLineage schemas. */
export function lineageValidators() {
  const ajv = new Ajv2020({ allErrors: true });
  addFormats(ajv);
  // The spec annotates with `example`, which is not a JSON Schema keyword.
  ajv.addKeyword('example');
  // The facet pins its base facet to spec 1-0-2 by URL; serve it the vendored core, whose
  // DatasetFacet is the same definition (a BaseFacet requiring _producer and _schemaURL).
  ajv.addSchema({ ...core, $id: 'https://openlineage.io/spec/1-0-2/OpenLineage.json', $defs: core.definitions });
  ajv.addSchema(schemaFacet);
  const event = ajv.compile(core);
  const facet = ajv.getSchema('https://openlineage.io/spec/facets/1-0-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet')!;
  return { event, facet, ajv };
}
