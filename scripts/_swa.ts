import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadLog } from './lib/data.js';
import { loadModelDir, makeSplit, remapSplit } from './lib/modeldir.js';
import { initBackend, evaluateModel } from './lib/trainer.js';
import type { Params } from '../src/model/encoder.js';
await initBackend();
const [dataset, ...srcs] = process.argv.slice(2);
const base = loadModelDir('.cache/models/' + srcs[0].replace(/^ck:/, ''));
function load(s: string): Params {
  if (s.startsWith('ck:')) {
    const dir = '.cache/checkpoints/' + s.slice(3);
    const ck = JSON.parse(fs.readFileSync(path.join(dir, 'ckpt.json'), 'utf8'));
    const named = tf.io.decodeWeights(fs.readFileSync(path.join(dir, 'ckpt.bin')).buffer.slice(0) as ArrayBuffer, ck.specs);
    console.log(s, 'epoch', ck.state.epoch, 'bestEpoch', ck.state.bestEpoch + 1);
    return Object.fromEntries(Object.keys(base.params).map((k) => [k, named['p/' + k]]));
  }
  return loadModelDir('.cache/models/' + s).params;
}
const ps = srcs.map(load);
const avg: Params = Object.fromEntries(Object.keys(base.params).map((k) => [k, tf.tidy(() => tf.div(tf.addN(ps.map((p) => p[k])), ps.length))]));
const log = loadLog(dataset);
const split = remapSplit(makeSplit(log), base.vocab.ids);
const v = evaluateModel(avg, base.cfg, split.valid, split.excludeSeen);
const t = evaluateModel(avg, base.cfg, split.test, split.excludeSeen);
console.log(srcs.join(' + '), 'valid', v['ndcg@10'].toFixed(4), v['hr@10'].toFixed(4), 'test', t['ndcg@10'].toFixed(4), t['hr@10'].toFixed(4));
