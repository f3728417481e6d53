import { loadModelDir, saveModelDir, disposeParams } from './lib/modeldir.js';
import { initBackend } from './lib/backend.js';
import { codeBytes } from './lib/items.js';
await initBackend('wasm');
const m = loadModelDir('.cache/models/synth-1m-float32');
const r = await saveModelDir('.cache/models/synth-1m', m.params, m.cfg, m.vocab, 'uint8', { sharded: codeBytes(m.cfg.d) });
disposeParams(m.params);
console.log('uint8 sharded export', r);
