import 'fake-indexeddb/auto';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createRecommenderWith } from './core.js';

// No model here: only the event path is exercised (the runtime loader fails, which the SDK reports).
const noRuntime = () => Promise.reject(new Error('no runtime in this test'));
let db = 0;
/** A recommender over a fresh database, disposed when the test ends (pass or fail: its BroadcastChannel would keep Node alive). */
const open = async (t: TestContext) => {
  indexedDB.deleteDatabase('shelfwise');
  const rec = await createRecommenderWith(noRuntime, { model: `/model-${++db}.json`, onError: () => undefined });
  t.after(() => rec.dispose());
  return rec;
};

test('an event tracked while the history is being read is not lost from what the model reads', async (t) => {
  const rec = await open(t);
  const reading = rec.history(); // a read in flight (as at start-up with fine-tuning on) ...
  await rec.track({ type: 'view', itemId: 'A', ts: 1000 }); // ... when the first event arrives
  await reading;
  await rec.track({ type: 'view', itemId: 'B', ts: 2000 });
  assert.deepEqual(
    (await rec.history()).map((e) => e.itemId),
    ['A', 'B'],
  );
});

test('concurrent track() calls are stored in call order and all seen', async (t) => {
  const rec = await open(t);
  const ids = Array.from({ length: 20 }, (_, i) => `I${i}`);
  await Promise.all(ids.map((id, i) => rec.track({ type: 'view', itemId: id, ts: 1000 + i })));
  assert.deepEqual(
    (await rec.history()).map((e) => e.itemId),
    ids,
  );
});

test('forget() right after track() erases that event too', async (t) => {
  const rec = await open(t);
  const tracked = rec.track({ type: 'view', itemId: 'A', ts: 1000 });
  await rec.forget();
  await tracked;
  assert.deepEqual(await rec.history(), []);
});

test('experiment: 2,000 shoppers land in control at the configured share, each keeps their arm, a new experiment draws again', async () => {
  const { armOf, randomId } = await import('./recommender/index.js');
  const e = { name: 'grid-test', holdout: 0.2 };
  const ids = Array.from({ length: 2000 }, () => randomId());
  const control = ids.filter((id) => armOf(id, e) === 'control').length / ids.length;
  assert.ok(Math.abs(control - 0.2) <= 0.03, `control share ${control}`);
  assert.ok(
    ids.every((id) => armOf(id, e) === armOf(id, e)),
    'the same id, the same arm',
  );
  const other = ids.filter((id) => armOf(id, e) !== armOf(id, { ...e, name: 'grid-next' })).length / ids.length;
  assert.ok(other > 0.2, `a new experiment re-draws (${other} changed arm)`);
});

test('experiment: the arm is stored beside the events (same on the next visit), control never loads the model, exposure is announced once per page, forget() erases the draw', async (t) => {
  indexedDB.deleteDatabase('shelfwise');
  const g = globalThis as unknown as { dataLayer?: unknown[]; analytics?: { track: (e: string, p: object) => void } };
  const segment: Array<[string, object]> = [];
  g.dataLayer = [];
  g.analytics = { track: (e, p) => segment.push([e, p]) };
  t.after(() => {
    delete g.dataLayer;
    delete g.analytics;
  });
  let imports = 0;
  const importRuntime = () => {
    imports++;
    return Promise.reject(new Error('no runtime in this test'));
  };
  const opts = { model: '/m.json', experiment: { name: 'exp-a', holdout: 1 }, onError: () => undefined };
  const a = await createRecommenderWith(importRuntime, opts);
  t.after(() => a.dispose());
  assert.deepEqual(a.experiment, { name: 'exp-a', arm: 'control' });
  assert.equal(await a.ready, false);
  assert.equal(imports, 0, 'control fetches no model and no runtime');
  assert.deepEqual(
    (await a.rank(['x', 'y'])).map((r) => r.itemId),
    ['x', 'y'],
    'the merchant order',
  );
  await a.rank(['y']);
  assert.deepEqual(g.dataLayer, [{ event: 'experience_impression', exp_variant_string: 'shelfwise-exp-a-control' }]);
  assert.deepEqual(segment, [
    [
      'Experiment Viewed',
      { experiment_id: 'exp-a', experiment_name: 'exp-a', variation_id: 'control', variation_name: 'control' },
    ],
  ]);
  // Another visit with a 50% holdout: the stored id decides, the same as a third visit.
  const half = { ...opts, experiment: { name: 'exp-b', holdout: 0.5 } };
  const b = await createRecommenderWith(importRuntime, half),
    c = await createRecommenderWith(importRuntime, half);
  t.after(() => {
    b.dispose();
    c.dispose();
  });
  assert.equal(b.experiment!.arm, c.experiment!.arm);
  const storedId = () =>
    new Promise<unknown>((res, rej) => {
      const r = indexedDB.open('shelfwise');
      r.onsuccess = () => {
        const q = r.result.transaction('kv').objectStore('kv').get('experiment-id');
        q.onsuccess = () => {
          r.result.close();
          res(q.result);
        };
        q.onerror = () => rej(q.error);
      };
    });
  assert.match(String(await storedId()), /^[0-9a-f]{32}$/);
  await a.forget();
  assert.equal(await storedId(), undefined, 'forget() erases the draw');
  const d = await createRecommenderWith(importRuntime, {
    ...opts,
    consent: false,
    experiment: { name: 'exp-c', holdout: 0.5 },
  });
  t.after(() => d.dispose());
  g.dataLayer = [];
  await d.rank(['x']);
  assert.deepEqual(g.dataLayer, [], "consent false: nothing pushed to the shop's analytics");
});

test('experiment: a hostile option is a clear invalid_options error through onError, and createRecommender rejects', async () => {
  for (const experiment of [
    { name: '', holdout: 0.2 },
    { name: 7, holdout: 0.2 },
    { name: 'x', holdout: 1.5 },
    { name: 'x', holdout: NaN },
    { name: 'x', holdout: '0.2' },
    'x',
  ]) {
    const seen: string[] = [];
    await assert.rejects(
      createRecommenderWith(noRuntime, {
        model: '/m.json',
        experiment: experiment as never,
        onError: (e) => seen.push(e.code),
      }),
      (e: Error & { code?: string }) => e.code === 'invalid_options' && /experiment/.test(e.message),
    );
    assert.deepEqual(seen, ['invalid_options']);
  }
});
