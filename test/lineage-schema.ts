import { readFileSync, readdirSync } from 'node:fs';
import type { ValidateFunction } from 'ajv';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv ships CommonJS: take the class whichever way the loader hands it over.
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as typeof addFormatsModule;

const folder = new URL('./openlineage/', import.meta.url);
const readSchema = (url: URL): Record<string, unknown> & { $id: string } => JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown> & { $id: string };

/** The $id of the vendored event schema: the version every event must claim. */
export const OPENLINEAGE_SPEC_ID = 'https://openlineage.io/spec/2-0-2/OpenLineage.json';

/**
 * Validators from the vendored OpenLineage schemas, each registered under its own `$id`
 * (nothing relabelled): `event` checks a RunEvent against spec 2-0-2, `facet` a schema
 * dataset facet, and `eventProblems` the event plus every facet in it against the schema
 * its `_schemaURL` names.
 */
export function lineageValidators() {
  const ajv = new Ajv2020({ allErrors: true });
  addFormats(ajv);
  // The spec annotates with `example`, which is not a JSON Schema keyword.
  ajv.addKeyword('example');
  const core = readSchema(new URL('OpenLineage.json', folder));
  if (core.$id !== OPENLINEAGE_SPEC_ID) throw new Error(`vendored OpenLineage.json is ${core.$id}, not ${OPENLINEAGE_SPEC_ID}`);
  ajv.addSchema(core);
  // Facet file $id -> the key its top level says the facet is stored under (e.g. parent).
  const facetKeys = new Map<string, string[]>();
  for (const name of readdirSync(new URL('facets/', folder))) {
    const schema = readSchema(new URL(`facets/${name}`, folder));
    ajv.addSchema(schema);
    facetKeys.set(schema.$id, Object.keys((schema.properties as Record<string, unknown> | undefined) ?? {}));
  }
  const event = ajv.getSchema(OPENLINEAGE_SPEC_ID)!;
  const facet = ajv.getSchema('https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet')!;

  /** Every problem with an event: the event schema's, then each facet's against its own schema. */
  const eventProblems = (value: unknown): string[] => {
    const problems: string[] = [];
    if (!event(value)) problems.push(`event: ${ajv.errorsText(event.errors)}`);
    const candidate = value as {
      schemaURL?: string;
      run?: { facets?: Record<string, unknown> };
      job?: { facets?: Record<string, unknown> };
      inputs?: { facets?: Record<string, unknown>; inputFacets?: Record<string, unknown> }[];
      outputs?: { facets?: Record<string, unknown>; outputFacets?: Record<string, unknown> }[];
    };
    if (!candidate?.schemaURL?.startsWith(`${OPENLINEAGE_SPEC_ID}#`)) problems.push(`schemaURL ${candidate?.schemaURL} is not spec 2-0-2`);
    const groups: [string, Record<string, unknown> | undefined][] = [
      ['run', candidate?.run?.facets],
      ['job', candidate?.job?.facets],
      ...(candidate?.inputs ?? []).flatMap((dataset, index): [string, Record<string, unknown> | undefined][] => [[`inputs[${index}]`, dataset.facets], [`inputs[${index}].inputFacets`, dataset.inputFacets]]),
      ...(candidate?.outputs ?? []).flatMap((dataset, index): [string, Record<string, unknown> | undefined][] => [[`outputs[${index}]`, dataset.facets], [`outputs[${index}].outputFacets`, dataset.outputFacets]]),
    ];
    for (const [where, facets] of groups) {
      for (const [key, body] of Object.entries(facets ?? {})) {
        const url = (body as { _schemaURL?: string })?._schemaURL;
        const validate: ValidateFunction | undefined = url ? ajv.getSchema(url) : undefined;
        if (!validate) {
          problems.push(`${where}.${key}: no vendored schema for _schemaURL ${url}`);
          continue;
        }
        if (!validate(body)) problems.push(`${where}.${key}: ${ajv.errorsText(validate.errors)}`);
        const keys = facetKeys.get(url.split('#')[0]!) ?? [];
        if (!keys.includes(key)) problems.push(`${where}.${key}: its schema stores this facet under ${keys.join(' or ')}`);
      }
    }
    return problems;
  };
  return { event, facet, eventProblems, ajv };
}
