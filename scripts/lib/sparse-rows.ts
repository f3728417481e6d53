/**
 * Row-sparse training steps for large catalogs: with a sampled softmax a step reads only a few thousand rows
 * of the item table (the batch's items, its targets, the uniform draws), yet a dense step would copy the
 * whole table into every lookup, build a dense gradient of it and run Adam over all of it (4 sequences/s at
 * 70,000 products). Here the table lives on the JS side; each step gathers the rows it needs into a small
 * table, renumbers the batch onto it, takes the gradient of that, and applies Adam to those rows only
 * ("lazy" Adam: a row's moments move when the row is used, with the global step's bias correction).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../../src/model/config.js';
import { hasReturn } from '../../src/model/config.js';
import { uniformDraws, type SeqInputs, type Targets } from '../../src/model/encoder.js';

/** Catalogs above this many products train with row-sparse steps when the softmax is sampled (mixed negatives). */
export const SPARSE_ABOVE = 50_000;

export class SparseRows {
  readonly table: Float32Array;
  readonly ret: Float32Array | null;
  /** Logits a step's share may hold at once (targets × rows of its small table): 2^25 floats, 128 MB. */
  logitLimit = 2 ** 25;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private readonly rm: Float32Array | null;
  private readonly rv: Float32Array | null;
  private t = 0;

  constructor(
    params: Record<string, tf.Tensor>,
    private readonly cfg: ModelConfig,
    private readonly beta2: number,
  ) {
    this.table = (params.item_emb.dataSync() as Float32Array).slice();
    this.ret = hasReturn(cfg) ? (params.ret_item.dataSync() as Float32Array).slice() : null;
    this.m = new Float32Array(this.table.length);
    this.v = new Float32Array(this.table.length);
    this.rm = this.ret && new Float32Array(this.ret.length);
    this.rv = this.ret && new Float32Array(this.ret.length);
  }

  /** The batch on a small table of the rows it uses: renumbered inputs, targets and draws, and those rows. */
  gather(
    inp: SeqInputs,
    targets: Targets,
    sampled: number,
    seed: number,
  ): { inp: SeqInputs; targets: Targets; negRows: Int32Array; rows: Int32Array; cfg: ModelConfig } {
    const local = new Map<number, number>();
    const rows: number[] = [];
    const at = (r: number) => {
      if (r <= 0) return r;
      let k = local.get(r);
      if (k === undefined) {
        local.set(r, (k = rows.length + 1));
        rows.push(r);
      }
      return k;
    };
    const items = Int32Array.from(inp.items, at);
    const pairItem = Int32Array.from(targets.pairItem, at);
    const ret = targets.ret && { ...targets.ret, rows: Int32Array.from(targets.ret.rows, at) };
    const negRows = Int32Array.from(uniformDraws(seed, sampled, this.cfg.vocabSize), at);
    return {
      inp: { ...inp, items },
      targets: { ...targets, pairItem, ...(ret ? { ret } : {}) },
      negRows,
      rows: Int32Array.from(rows),
      cfg: { ...this.cfg, vocabSize: rows.length + 1 },
    };
  }

  /** The small table's variables (row 0 padding) for `rows`. */
  variables(rows: Int32Array): { item_emb: tf.Variable; ret_item?: tf.Variable } {
    const d = this.cfg.d,
      e = new Float32Array((rows.length + 1) * d);
    rows.forEach((r, i) => e.set(this.table.subarray(r * d, r * d + d), (i + 1) * d));
    // A variable shares its initial tensor's data: the tensor is disposed (else every step leaks it).
    const variable = (t: tf.Tensor) => {
      const v = tf.variable(t, true);
      t.dispose();
      return v;
    };
    const out: { item_emb: tf.Variable; ret_item?: tf.Variable } = {
      item_emb: variable(tf.tensor2d(e, [rows.length + 1, d])),
    };
    if (this.ret) {
      const r = new Float32Array(rows.length + 1);
      rows.forEach((x, i) => (r[i + 1] = this.ret![x]));
      out.ret_item = variable(tf.tensor2d(r, [rows.length + 1, 1]));
    }
    return out;
  }

  /** Adam on the used rows, from the small table's gradients (already scaled). */
  apply(rows: Int32Array, g: Float32Array, gRet: Float32Array | null, lr: number): void {
    const d = this.cfg.d,
      b1 = 0.9,
      b2 = this.beta2,
      eps = 1e-7;
    this.t++;
    const c1 = 1 - Math.pow(b1, this.t),
      c2 = 1 - Math.pow(b2, this.t);
    const adam = (p: Float32Array, m: Float32Array, v: Float32Array, at: number, gi: number) => {
      m[at] = b1 * m[at] + (1 - b1) * gi;
      v[at] = b2 * v[at] + (1 - b2) * gi * gi;
      p[at] -= (lr * (m[at] / c1)) / (Math.sqrt(v[at] / c2) + eps);
    };
    rows.forEach((r, i) => {
      for (let j = 0; j < d; j++) adam(this.table, this.m, this.v, r * d + j, g[(i + 1) * d + j]);
      if (this.ret && gRet) adam(this.ret, this.rm!, this.rv!, r, gRet[i + 1]);
    });
  }

  /** Writes the table into the model's variables (before validation, a checkpoint, the export). */
  sync(params: Record<string, tf.Variable>): void {
    tf.tidy(() => {
      params.item_emb.assign(tf.tensor2d(this.table, params.item_emb.shape as [number, number]));
      if (this.ret) params.ret_item.assign(tf.tensor2d(this.ret, params.ret_item.shape as [number, number]));
    });
  }

  /** Reads the table back from the model's variables (after they were reset to the best epoch's). */
  load(params: Record<string, tf.Tensor>): void {
    this.table.set(params.item_emb.dataSync());
    if (this.ret) this.ret.set(params.ret_item.dataSync());
  }
}
