import { register } from 'node:module';

register('./load-trace-hooks.mjs', import.meta.url);
