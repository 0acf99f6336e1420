import { readFileSync } from 'node:fs';

let cached: string | undefined;

/**
 * The tool's version from package.json, for manifests. Read here rather than imported from
 * cli.ts, which would load commander and the whole command surface into library callers.
 * The relative path holds from src/render/ (tsx) and from dist/render/ (built).
 */
export function readToolVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}
