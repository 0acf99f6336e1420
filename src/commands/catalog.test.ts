import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome, testContext } from '../../test/helpers.js';
import { goldFile, silverFile } from '../lake/layout.js';
import { recordDataset } from '../metadata/catalog.js';
import { catalog } from './catalog.js';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome()));
afterEach(async () => cleanup());

describe('dataprod catalog', () => {
  it('lists datasets with PII classes and tags, and searches names, columns and tags', async () => {
    await recordDataset(home, { layer: 'silver', path: silverFile(home, 'customers', '2026-11-20'), schema: [{ name: 'email', type: 'VARCHAR' }, { name: 'city', type: 'VARCHAR' }], rows: 5000, checksum: 'ab'.repeat(32), bytes: 2048 });
    await recordDataset(home, { layer: 'gold', path: goldFile(home, 'ouchhungry', 'monthly-by-city', '2026-10'), schema: [{ name: 'units_sold', type: 'BIGINT' }], rows: 80, checksum: null });
    const all = await catalog({}, testContext(home));
    expect(all.data.map((entry) => entry.name)).toEqual(['gold.ouchhungry.monthly-by-city/2026-10', 'silver.customers/date=2026-11-20']);
    expect(all.text).toContain('direct: email');
    expect(all.text).toContain('indirect: city');
    expect(all.text).toContain('partner-share');
    expect(all.text).toContain('sha256:abababababab');
    expect(all.text).toContain('2 datasets');
    expect((await catalog({ search: 'EMAIL' }, testContext(home))).data).toHaveLength(1);
    expect((await catalog({ search: 'partner-share' }, testContext(home))).data.map((entry) => entry.layer)).toEqual(['gold']);
    const none = await catalog({ search: 'nothing' }, testContext(home));
    expect(none.data).toEqual([]);
    expect(none.text).toContain('no dataset matches "nothing"');
  });

  it('explains an empty catalog', async () => {
    expect((await catalog({}, testContext(home))).text).toContain('the catalog is empty');
  });
});
