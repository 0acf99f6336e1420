import type { z } from 'zod';

/** A key the schema does not know, where it is, and the known key it most looks like. */
export interface UnknownKey {
  /** Path of the object holding the key, e.g. ['destinations', 0]. */
  path: (string | number)[];
  key: string;
  /** The closest known key at that place, when one is close enough. */
  suggestion?: string;
}

// zod 4 keeps every schema's definition on `_zod.def`; only the parts walked here are typed.
interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  in?: z.ZodType;
  valueType?: z.ZodType;
  values?: unknown[];
  getter?: () => z.ZodType;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/** The known name closest to `name`, if it is a plausible misspelling of it. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/** Literal values a union option's discriminator accepts. */
function discriminatorValues(option: z.ZodType, discriminator: string): unknown[] {
  const field = unwrap(option).shape?.[discriminator];
  return field ? (unwrap(field).values ?? []) : [];
}

/** The definition under optional/default/nullable/pipe wrappers. */
function unwrap(schema: z.ZodType): Def {
  let def = defOf(schema);
  for (;;) {
    if (def.innerType) def = defOf(def.innerType);
    else if (def.type === 'pipe' && def.in) def = defOf(def.in);
    else if (def.type === 'lazy' && def.getter) def = defOf(def.getter());
    else return def;
  }
}

/**
 * Every key of `value` that `schema` would silently drop (zod strips unknown keys), with
 * its path and a suggestion. Walks objects, arrays, records and unions (a discriminated
 * union by its discriminator, another by the option that fits best).
 */
export function findUnknownKeys(schema: z.ZodType, value: unknown, path: (string | number)[] = []): UnknownKey[] {
  const def = unwrap(schema);
  switch (def.type) {
    case 'object': {
      if (!isPlainObject(value)) return [];
      const shape = def.shape ?? {};
      const known = Object.keys(shape);
      // A catch-all other than "never" (strict) accepts any key: nothing is unknown there.
      const open = def.catchall !== undefined && defOf(def.catchall).type !== 'never';
      const out: UnknownKey[] = [];
      for (const [key, child] of Object.entries(value)) {
        if (key in shape) out.push(...findUnknownKeys(shape[key]!, child, [...path, key]));
        else if (!open) {
          const suggestion = closestName(key, known);
          out.push({ path, key, ...(suggestion ? { suggestion } : {}) });
        }
      }
      return out;
    }
    case 'array':
      return Array.isArray(value) && def.element ? value.flatMap((item, index) => findUnknownKeys(def.element!, item, [...path, index])) : [];
    case 'record':
      return isPlainObject(value) && def.valueType ? Object.entries(value).flatMap(([key, item]) => findUnknownKeys(def.valueType!, item, [...path, key])) : [];
    case 'union': {
      const options = def.options ?? [];
      if (def.discriminator && isPlainObject(value)) {
        const chosen = options.find((option) => discriminatorValues(option, def.discriminator!).includes(value[def.discriminator!]));
        return chosen ? findUnknownKeys(chosen, value, path) : [];
      }
      const candidates = options.map((option) => findUnknownKeys(option, value, path));
      return candidates.sort((a, b) => a.length - b.length)[0] ?? [];
    }
    default:
      return [];
  }
}

/** "destinations[0].enable: unknown key (did you mean "enabled"?)" */
export function describeUnknownKey(unknown: UnknownKey, formatPath: (path: (string | number)[]) => string): string {
  const where = unknown.path.length ? `${formatPath(unknown.path)}.${unknown.key}` : unknown.key;
  return `${where}: unknown key${unknown.suggestion ? ` (did you mean "${unknown.suggestion}"?)` : ''}`;
}
