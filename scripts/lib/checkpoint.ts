/** Training checkpoints: parameters, optimizer state and the run's state, written atomically. */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../../src/model/encoder.js';

/** `rec` with every key prefixed (the best and averaged weights beside the current ones in a checkpoint). */
export function prefixed<T>(prefix: string, rec: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(rec).map(([k, v]) => [prefix + k, v]));
}

export function saveCheckpoint(dir: string, params: Params, opt: tf.Optimizer, state: object): Promise<void> {
  return (async () => {
    fs.mkdirSync(dir, { recursive: true });
    const named: Array<{ name: string; tensor: tf.Tensor }> = [
      ...Object.entries(params).map(([name, tensor]) => ({ name: 'p/' + name, tensor })),
      ...(await opt.getWeights()).map((w) => ({ name: 'o/' + w.name, tensor: w.tensor })),
    ];
    const { data, specs } = await tf.io.encodeWeights(named);
    const tmp = path.join(dir, 'ckpt.tmp');
    fs.writeFileSync(tmp + '.bin', Buffer.from(data));
    fs.writeFileSync(tmp + '.json', JSON.stringify({ specs, state }));
    fs.renameSync(tmp + '.bin', path.join(dir, 'ckpt.bin'));
    fs.renameSync(tmp + '.json', path.join(dir, 'ckpt.json'));
  })();
}
