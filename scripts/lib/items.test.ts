import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { initBackend } from './backend.js';
import { defaultConfig } from '../../src/model/config.js';
import { initParams } from '../../src/model/encoder.js';
import { ModelRuntime, type ModelEvent } from '../../src/model/engine.js';
import { decodeHead, decodeShard, encodeHead, encodeShard, itemKeys } from '../../src/model/items.js';
import { checkModelJson } from '../../src/model/weights.js';
import { loadModelDir, saveModelDir } from './modeldir.js';
import { decodeTable, productQuantize } from './items.js';
import { writeVisitPart } from './companions.js';
import * as tf from '@tensorflow/tfjs-core';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shelfwise-items-'));
const requests: string[] = [];
let server: http.Server, base: string;

before(async () => {
  await initBackend('cpu');
  server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url!.split('?')[0]);
    requests.push(url);
    const file = path.join(tmp, url);
    if (!file.startsWith(tmp) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200).end(fs.readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('item keys are stable across releases (an exporter in another language must match them)', () => {
  assert.deepEqual(itemKeys('85123A'), itemKeys('85123A'));
  assert.notDeepEqual(itemKeys('85123A'), itemKeys('85123B'));
  // Pinned: changing the hashes orphans every shipped directory.
  assert.deepEqual(itemKeys(''), [itemKeys('')[0], itemKeys('')[1]]);
  const [a, b] = itemKeys('LUNCH BAG ✓');
  assert.ok(Number.isInteger(a) && a >= 0 && a < 2 ** 32 && Number.isInteger(b) && b >= 0 && b < 2 ** 32);
});

test('shard and head files read back what was written, and refuse a wrong or truncated file', () => {
  const codes = Uint8Array.from({ length: 3 * 4 }, (_, i) => i * 7);
  const s = decodeShard(encodeShard([5, 9, 2 ** 32 - 1], codes, 4, Uint8Array.of(1, 2, 3)).slice().buffer, 4);
  assert.deepEqual([...s.keys], [5, 9, 2 ** 32 - 1]);
  assert.deepEqual([...s.codes], [...codes]);
  assert.deepEqual([...s.ret!], [1, 2, 3]);
  const full = encodeShard([5], codes, 4, null);
  assert.throws(() => decodeShard(full.slice(0, full.length - 1).buffer, 4), /bytes for 1 products/);
  assert.throws(() => decodeShard(full.slice().buffer, 8), /4-byte codes, the model's are 8/);
  assert.throws(() => decodeShard(new Uint8Array(40).buffer, 4), /SWI1/);
  const h = decodeHead(encodeHead([7, 8], [1, 2], codes, 1, Math.log(10), 4, null).slice().buffer, 4);
  assert.deepEqual([...h.shardKeys], [7, 8]);
  assert.equal(h.samples, 1);
  assert.ok(Math.abs(h.logWeight - Math.log(10)) < 1e-6);
  assert.throws(() => decodeHead(new Uint8Array(40).buffer, 4), /SWH1/);
});

test('product quantization keeps the table close (16 bytes for 64 floats, a coarser code than the default)', () => {
  const d = 64,
    V = 3001;
  const t = tf.tidy(() => tf.concat([tf.zeros([1, d]), tf.randomNormal([V - 1, d], 0, 1, 'float32', 3)]));
  const table = t.dataSync() as Float32Array;
  t.dispose();
  const { codebooks, codes } = productQuantize(table, d, 16, { iters: 6 });
  const back = decodeTable(codebooks, codes, d, 16);
  let err = 0,
    norm = 0;
  for (let i = d; i < table.length; i++) {
    err += (table[i] - back[i]) ** 2;
    norm += table[i] ** 2;
  }
  // Gaussian noise is the hardest case (no structure to share): 256 centroids in 4 dimensions.
  assert.ok(err / norm < 0.25, `relative squared error ${err / norm}`);
});

test('a sharded model ranks like its decoded table, fetching only the shards of the products it is asked about', async () => {
  const V = 601;
  const cfg = defaultConfig(V, { d: 16, blocks: 1, heads: 2, maxLen: 20, ffDim: 32, dropout: 0, returnItems: 8 });
  const params = initParams(cfg, 5);
  const ids = Array.from({ length: V - 1 }, (_, i) => `sku-${i}`);
  const dir = path.join(tmp, 'sharded');
  await saveModelDir(dir, params, cfg, { ids }, 'float32', {
    sharded: 8,
    sizes: { popular: 50, sample: 100, perShard: 10 },
  });
  for (const t of Object.values(params)) t.dispose();
  const json = checkModelJson(JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')));
  const meta = json.userDefinedMetadata.shelfwise.items!;
  assert.equal(meta.shards, 60);
  assert.ok(!json.weightsManifest[0].weights.some((w) => w.name === 'item_emb'), 'no item table in the weights');

  const rt = await ModelRuntime.load(`${base}/sharded/model.json`, 'cpu', '', { useCache: false });
  assert.equal(rt.V, 1 + 50 + 100, 'the head: padding, the popular products, the sample');
  assert.ok(!requests.some((u) => u.endsWith('vocab.json')), 'the vocabulary is not downloaded');
  const cands = ids.slice(0, 200).concat('new-product');
  const history: ModelEvent[] = ['sku-3', 'sku-120', 'sku-450', 'sku-77', 'sku-599'].map((id, i) => ({
    itemId: id,
    type: 'click',
    ts: 1e12 + i * 60_000,
  }));
  const before = requests.length;
  await rt.ensure([...history.map((e) => e.itemId), ...cands]);
  const fetched = requests.slice(before).filter((u) => u.includes('/items/'));
  const shardsNeeded = new Set(
    [...history.map((e) => e.itemId!), ...cands]
      .filter((id) => ids.indexOf(id) >= 50 || !ids.includes(id))
      .map((id) => itemKeys(id)[0] % meta.shards),
  );
  assert.equal(fetched.length, shardsNeeded.size, 'one request per shard that holds an asked-about product');
  await rt.ensure(cands);
  assert.equal(requests.length, before + fetched.length, 'asked again: no request');
  assert.equal(rt.rowOf.get('new-product'), undefined, 'a product in no shard stays unknown');
  assert.equal(rt.V, 1 + 50 + 100 + 150 + 2, 'rows for the products looked up beyond the head');

  // The same model as a table (every product decoded from its code), as the offline evaluation reads it.
  const tableModel = loadModelDir(dir);
  const ref = new ModelRuntime(tableModel.cfg, tableModel.params, tableModel.vocab, 'ref', 'cpu');
  const e1 = await rt.embed(history),
    e2 = await ref.embed(history);
  for (let j = 0; j < cfg.d; j++) assert.ok(Math.abs(e1.user[j] - e2.user[j]) < 1e-4, 'the same user vector');
  const rows1 = Int32Array.from(cands, (id) => rt.rowOf.get(id) ?? 0),
    rows2 = Int32Array.from(cands, (id) => ref.rowOf.get(id) ?? 0);
  const s1 = rt.scoreFor(e1, history, rows1).scores,
    s2 = ref.scoreFor(e2, history, rows2).scores;
  const order = (s: Float32Array) =>
    Array.from(s.slice(0, 200), (v, i) => [v, i])
      .sort((a, b) => b[0] - a[0])
      .slice(0, 20)
      .map((x) => x[1]);
  // The catalog's normalizer comes from the head's sample on the page, exact offline: the same top 20.
  assert.deepEqual(order(s1), order(s2));
  for (let i = 0; i < 200; i++) assert.ok(Math.abs(s1[i] - s2[i]) < 0.2, `score ${i}: ${s1[i]} vs ${s2[i]}`);
  rt.dispose();
  ref.dispose();
});

test('a missing or corrupt shard warns once and leaves its products unknown; the rest still rank', async () => {
  const V = 301;
  const cfg = defaultConfig(V, { d: 8, blocks: 1, heads: 1, maxLen: 10, ffDim: 8, dropout: 0 });
  const params = initParams(cfg, 6);
  const ids = Array.from({ length: V - 1 }, (_, i) => `p${i}`);
  const dir = path.join(tmp, 'broken');
  await saveModelDir(dir, params, cfg, { ids }, 'float32', {
    sharded: 4,
    sizes: { popular: 10, sample: 10, perShard: 10 },
  });
  for (const t of Object.values(params)) t.dispose();
  const meta = checkModelJson(JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'))).userDefinedMetadata
    .shelfwise.items!;
  const victim = 'p200',
    other = ids.find((id, i) => i >= 10 && itemKeys(id)[0] % meta.shards !== itemKeys(victim)[0] % meta.shards)!;
  fs.writeFileSync(path.join(dir, 'items', `${itemKeys(victim)[0] % meta.shards}.bin`), 'not a shard');
  const rt = await ModelRuntime.load(`${base}/broken/model.json`, 'cpu', '', { useCache: false });
  const warn = console.warn;
  const warnings: string[] = [];
  console.warn = (m: string) => warnings.push(m);
  try {
    await rt.ensure([victim, other]);
    await rt.ensure([victim]);
  } finally {
    console.warn = warn;
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /item shard did not load/);
  assert.equal(rt.rowOf.get(victim), undefined);
  assert.ok(rt.rowOf.get(other)! > 0);
  rt.dispose();
  // A corrupt head file: a clear load error.
  fs.writeFileSync(path.join(dir, 'items', 'head.bin'), 'garbage');
  await assert.rejects(ModelRuntime.load(`${base}/broken/model.json`, 'cpu', '', { useCache: false }), (e: Error) =>
    /does not match model.json's version|item directory/.test(e.message),
  );
});

test("a sharded model's visit part reads back as the companions it was written from", async () => {
  const V = 401;
  const cfg = defaultConfig(V, { d: 8, blocks: 1, heads: 1, maxLen: 10, ffDim: 8, dropout: 0 });
  const params = initParams(cfg, 7);
  const ids = Array.from({ length: V - 1 }, (_, i) => `c${i}`);
  const dir = path.join(tmp, 'visit');
  await saveModelDir(dir, params, cfg, { ids }, 'float32', {
    sharded: 4,
    sizes: { popular: 20, sample: 20, perShard: 8 },
  });
  for (const t of Object.values(params)) t.dispose();
  // Row r's companions: the next three rows (none for every fifth row), weights 1, 1/2, 1/3.
  const start = new Uint32Array(V + 1),
    cids: number[] = [],
    w: number[] = [];
  for (let r = 1; r < V; r++) {
    if (r % 5 !== 0)
      for (let j = 1; j <= 3; j++) {
        cids.push(((r + j - 1) % (V - 1)) + 1);
        w.push(1 / j);
      }
    start[r + 1] = cids.length;
  }
  const c = { start, ids: Uint32Array.from(cids), w: Float32Array.from(w) };
  const meta = writeVisitPart(dir, c, { decay: 0.5, lambdaNew: 0.3, lambdaReturning: 0.2 });
  assert.equal(meta.path, 'companions/');
  assert.ok(meta.sharded);
  assert.ok(!fs.existsSync(path.join(dir, 'companions.bin')));
  const back = loadModelDir(dir);
  assert.ok(back.visit);
  assert.deepEqual([...back.visit.c.start], [...start]);
  assert.deepEqual([...back.visit.c.ids], cids);
  back.visit.c.w.forEach((x, q) => assert.ok(Math.abs(x - w[q]) < 1 / 255 + 1e-6));
  for (const t of Object.values(back.params)) t.dispose();
});

test('products handed their codes (codes.tsv, data-shelfwise-code) are ranked without fetching a shard', async () => {
  const V = 301;
  const cfg = defaultConfig(V, { d: 8, blocks: 1, heads: 1, maxLen: 10, ffDim: 8, dropout: 0, returnItems: 4 });
  const params = initParams(cfg, 8);
  const ids = Array.from({ length: V - 1 }, (_, i) => `k${i}`);
  const dir = path.join(tmp, 'codes');
  await saveModelDir(dir, params, cfg, { ids }, 'float32', {
    sharded: 4,
    sizes: { popular: 10, sample: 10, perShard: 8 },
  });
  for (const t of Object.values(params)) t.dispose();
  const codes = new Map(
    fs
      .readFileSync(path.join(dir, 'codes.tsv'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('\t') as [string, string]),
  );
  assert.equal(codes.size, V - 1);
  const asked = ['k50', 'k51', 'k200', 'k299'];
  const [a, b] = await Promise.all([
    ModelRuntime.load(`${base}/codes/model.json`, 'cpu', '', { useCache: false }),
    ModelRuntime.load(`${base}/codes/model.json`, 'cpu', '', { useCache: false }),
  ]);
  const before = requests.length;
  // Each asked twice (a history product is on the grid too).
  await a.ensure([...asked, ...asked], new Map(asked.map((id) => [id, codes.get(id)!] as const)));
  assert.equal(requests.length, before, 'no request for products with their codes');
  await b.ensure(asked);
  assert.ok(requests.length > before, 'without codes their shards are fetched');
  for (const id of asked) {
    const ra = a.rowOf.get(id)!,
      rb = b.rowOf.get(id)!;
    assert.deepEqual([...a.itemEmb.subarray(ra * 8, ra * 8 + 8)], [...b.itemEmb.subarray(rb * 8, rb * 8 + 8)]);
  }
  // A code that is not one (bad base64, a wrong length) is ignored: the product's shard is fetched instead.
  await a.ensure(['k60'], new Map([['k60', 'not base64!']]));
  assert.ok(a.rowOf.get('k60')! > 0);
  a.dispose();
  b.dispose();
});
