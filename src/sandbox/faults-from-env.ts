import { UsageError } from '../errors.js';
import type { Sandbox } from './index.js';

/**
 * Applies DATAPROD_SANDBOX_FAULTS to a sandbox started by `run --sandbox`, so a failure
 * can be rehearsed end to end (and the end-to-end tests can kill a run mid-delivery):
 *   api-slow=MS      every API answer waits MS milliseconds
 *   api-fail=N       the next N API requests answer 500
 *   api-429=S        the next API request answers 429 with Retry-After: S
 *   sftp-drop=BYTES  the SFTP server drops the connection once after BYTES of an upload
 *   sftp-deny=PATH   the SFTP server refuses writes under PATH
 * Several faults are separated by commas: "api-fail=2,sftp-drop=1000".
 */
export function applySandboxFaults(sandbox: Sandbox, spec: string | undefined): string[] {
  if (!spec) return [];
  const applied: string[] = [];
  for (const item of spec.split(',').map((part) => part.trim()).filter(Boolean)) {
    const [name, raw = ''] = item.split('=');
    const number = Number(raw);
    const needNumber = (): number => {
      if (!Number.isFinite(number) || number < 0) throw new UsageError(`DATAPROD_SANDBOX_FAULTS: ${item} needs a number`, { hint: 'e.g. DATAPROD_SANDBOX_FAULTS=api-slow=3000' });
      return number;
    };
    switch (name) {
      case 'api-slow':
        sandbox.api.faults.slowNext(1_000_000, needNumber());
        break;
      case 'api-fail':
        sandbox.api.faults.failNext(needNumber());
        break;
      case 'api-429':
        sandbox.api.faults.rateLimitNext(1, needNumber());
        break;
      case 'sftp-drop':
        sandbox.sftp.faults.dropAfterBytes(needNumber(), 1);
        break;
      case 'sftp-deny':
        sandbox.sftp.faults.denyWrite(raw);
        break;
      default:
        throw new UsageError(`DATAPROD_SANDBOX_FAULTS: unknown fault "${name}"`, { hint: 'known: api-slow, api-fail, api-429, sftp-drop, sftp-deny' });
    }
    applied.push(item);
  }
  return applied;
}
