// Module hooks for the start-up test: appends every module URL the program resolves to the
// file named by DATAPROD_LOAD_TRACE. Registered with `node --import test/e2e/load-trace.mjs`.
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(process.env.DATAPROD_LOAD_TRACE, `${resolved.url}\n`);
  return resolved;
}
