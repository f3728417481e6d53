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
  assert.deepEqual((await rec.history()).map((e) => e.itemId), ['A', 'B']);
});

test('concurrent track() calls are stored in call order and all seen', async (t) => {
  const rec = await open(t);
  const ids = Array.from({ length: 20 }, (_, i) => `I${i}`);
  await Promise.all(ids.map((id, i) => rec.track({ type: 'view', itemId: id, ts: 1000 + i })));
  assert.deepEqual((await rec.history()).map((e) => e.itemId), ids);
});

test('forget() right after track() erases that event too', async (t) => {
  const rec = await open(t);
  const tracked = rec.track({ type: 'view', itemId: 'A', ts: 1000 });
  await rec.forget();
  await tracked;
  assert.deepEqual(await rec.history(), []);
});
