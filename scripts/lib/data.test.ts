import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseDelimited,
  parseOnlineRetail,
  parseCsvLog,
  parseTaobao,
  splitSessions,
  parseUserItemLines,
  parseDunnhumby,
} from './data.js';
import { contentKnn } from './baselines.js';
import { contentTokens } from '../../src/model/content.js';
import { leaveOneOut, timeSplit } from './split.js';
import { typeCode } from '../../src/model/features.js';

const RETAIL = `InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
536365,85123A,"WHITE HANGING HEART, T-LIGHT",6,2010-12-01 08:26:00,2.55,17850,United Kingdom
536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,17850,United Kingdom
536366,22633,HAND WARMER,6,2010-12-01 08:28:00,1.85,,United Kingdom
536367,POST,POSTAGE,1,2010-12-01 08:30:00,18.00,17850,United Kingdom
C536368,71053,WHITE METAL LANTERN,-1,2010-12-02 09:00:00,3.39,17850,United Kingdom
536369,22633,HAND WARMER,2,2010-12-03 10:00:00,1.85,13047,United Kingdom
536369,22633,HAND WARMER,2,2010-12-03 10:00:00,1.85,13047,United Kingdom
`;

test('csv parser handles quoted commas, quotes and CRLF', () => {
  assert.deepEqual(parseDelimited('a,"b,c","d""e"\r\n1,2,3\n'), [
    ['a', 'b,c', 'd"e'],
    ['1', '2', '3'],
  ]);
});

test('online retail cleaning: no customer, non-products, duplicates dropped; cancellations become removals', () => {
  const log = parseOnlineRetail([RETAIL]);
  const u = log.users.find((x) => x.user === '17850')!;
  assert.deepEqual(u.items, ['85123A', '71053', '71053']);
  assert.deepEqual(u.types, [typeCode('purchase'), typeCode('purchase'), typeCode('remove_from_cart')]);
  // Lines of one invoice share a timestamp and keep the file order.
  assert.equal(u.ts[0], u.ts[1]);
  const v = log.users.find((x) => x.user === '13047')!;
  assert.deepEqual(v.items, ['22633'], 'the duplicate line is removed');
  assert.equal(log.users.length, 2, 'the row without a customer is dropped');
  assert.equal(log.meta.get('85123A')?.title, 'WHITE HANGING HEART, T-LIGHT');
  const dropped = parseOnlineRetail([RETAIL], { cancellations: 'drop' });
  assert.deepEqual(dropped.users.find((x) => x.user === '17850')!.items, ['85123A', '71053']);
});

test('a shop export maps columns and event names; unknown types are skipped', () => {
  const log = parseCsvLog(
    'shop',
    'uid\tsku\tevent\twhen\nu1\tA\tview_item\t100\nu1\tB\tProduct Added\t200\nu1\tC\tbogus\t300\nu2\tA\tpurchase\t2024-01-01T00:00:00Z\n',
    { user: 'uid', item: 'sku', type: 'event', time: 'when' },
  );
  assert.deepEqual(log.users.find((u) => u.user === 'u1')!.types, [typeCode('view'), typeCode('add_to_cart')]);
  assert.equal(log.users.find((u) => u.user === 'u2')!.ts[0], Date.parse('2024-01-01T00:00:00Z') / 1000);
  assert.match(log.notes[0], /1 rows skipped/);
});

test('taobao behaviors map onto event types and duplicates are removed', () => {
  const log = parseTaobao('1,10,5,pv,100\n1,10,5,pv,100\n1,11,5,cart,200\n1,12,5,buy,300\n1,13,5,fav,400\n');
  assert.deepEqual(
    log.users[0].types,
    ['view', 'add_to_cart', 'purchase', 'click'].map((t) => typeCode(t as 'view')),
  );
});

test('sessions split at inactivity gaps', () => {
  const log = {
    name: 'x',
    meta: new Map(),
    notes: [],
    users: [{ user: 'u', items: ['a', 'b', 'c', 'd'], types: [1, 1, 1, 1], ts: [0, 10, 5000, 5010] }],
  };
  const s = splitSessions(log, 1800);
  assert.deepEqual(
    s.users.map((u) => u.items),
    [
      ['a', 'b'],
      ['c', 'd'],
    ],
  );
});

test('leave-one-out: last = test, second-last = validation, neither in training', () => {
  const log = parseUserItemLines('t', '1 a b c d\n2 e f\n');
  const sp = leaveOneOut(log, true);
  const id = (r: number) => sp.vocab[r - 1];
  const u1 = sp.train.find((t) => t.user === '1')!;
  assert.deepEqual([...u1.items].map(id), ['a', 'b']);
  assert.equal(id(sp.valid[0].target), 'c');
  assert.deepEqual([...sp.test[0].items].map(id), ['a', 'b', 'c']);
  assert.equal(id(sp.test[0].target), 'd');
  assert.equal(sp.test.length, 1, 'a 2-event user only trains');
});

test('time split: training and vocabulary only see events before the cut-off; test = first purchase after it', () => {
  const P = typeCode('purchase'),
    R = typeCode('remove_from_cart');
  const log = {
    name: 'x',
    meta: new Map(),
    notes: [],
    users: [
      { user: 'u', items: ['a', 'b', 'x', 'c', 'late'], types: [P, P, R, P, P], ts: [1, 2, 3, 10, 11] },
      { user: 'w', items: ['a', 'c'], types: [P, P], ts: [1, 2] },
    ],
  };
  const sp = timeSplit(log, 5, false);
  assert.ok(!sp.vocab.includes('late'), 'an item first seen after the cut-off is not in the vocabulary');
  for (const t of sp.train)
    for (let i = 0; i < t.items.length; i++) assert.ok(t.ts[i] < 5, 'no training event after the cut-off');
  const test_ = sp.test.find((e) => e.user === 'u')!;
  assert.equal(sp.vocab[test_.target - 1], 'c');
  assert.deepEqual(
    [...test_.items].map((r) => sp.vocab[r - 1]),
    ['a', 'b', 'x'],
  );
  // Validation: the last purchase before the cut-off, held out of that user's training sequence.
  const v = sp.valid.find((e) => e.user === 'u')!;
  assert.equal(sp.vocab[v.target - 1], 'b');
  assert.deepEqual(
    [...sp.train.find((t) => t.user === 'u')!.items].map((r) => sp.vocab[r - 1]),
    ['a'],
  );
});

test('dunnhumby: the catalog (bought or not) as content, basket lines as purchases at day + HHMM', () => {
  const products = `PRODUCT_ID,MANUFACTURER,DEPARTMENT,BRAND,COMMODITY_DESC,SUB_COMMODITY_DESC,CURR_SIZE_OF_PRODUCT
1,2,GROCERY,National,FRZN ICE,ICE - CRUSHED/CUBED,22 LB
2,69,PASTRY,Private,BREAD,BREAD:ITALIAN/FRENCH,
3,5,GROCERY,National,SOUP,CONDENSED SOUP,10 OZ
4,5,GROCERY,National,SOUP,RAMEN,3 OZ`;
  const tx = `user_id,basket_id,day,item_id,quantity,sales_value,store_id,retail_disc,trans_time,week_no,coupon_disc,coupon_match_disc
7,100,664,1,2,5.00,1,0,930,96,0,0
7,100,664,2,1,2.50,1,0,930,96,0,0
7,101,670,3,1,1.00,1,0,1205,97,0,0
8,102,671,1,1,2.40,1,0,800,97,0,0`;
  const log = parseDunnhumby(products, tx);
  assert.equal(log.meta.size, 4, 'every product of the catalog, bought or not');
  assert.deepEqual(log.meta.get('1'), {
    title: 'ICE - CRUSHED/CUBED 22 LB',
    category: 'GROCERY > FRZN ICE > ICE - CRUSHED/CUBED',
    brand: 'National manufacturer 2',
    price: 2.45,
  });
  const u = log.users.find((x) => x.user === '7')!;
  assert.deepEqual(u.items, ['1', '2', '3']);
  assert.deepEqual(u.ts, [
    664 * 86400 + 9 * 3600 + 30 * 60,
    664 * 86400 + 9 * 3600 + 30 * 60,
    670 * 86400 + 12 * 3600 + 5 * 60,
  ]);
  assert.throws(() => parseDunnhumby('ID,X\n1,2', tx), /expected PRODUCT_ID/);
});

test("a time split ranks the catalog's products first sold after the cut-off as cold candidates; content kNN reads them", () => {
  const P = typeCode('purchase');
  const log = {
    name: 'x',
    users: [
      { user: 'a', items: ['s1', 's2', 's1', 'n1'], types: [P, P, P, P], ts: [10, 20, 30, 200] },
      { user: 'b', items: ['s2', 's1', 's2'], types: [P, P, P], ts: [10, 20, 200] },
    ],
    meta: new Map([
      ['s1', { title: 'red soup can', category: 'food > soup' }],
      ['s2', { title: 'blue mug', category: 'home > mugs' }],
      ['n1', { title: 'green soup can', category: 'food > soup' }],
      ['n2', { title: 'red mug', category: 'home > mugs' }],
    ]),
    notes: [],
  };
  const split = timeSplit(log, 100, false);
  assert.deepEqual(split.vocab.sort(), ['s1', 's2']);
  assert.deepEqual(split.cold, ['n1', 'n2']);
  const a = split.test.find((e) => e.user === 'a')!;
  assert.equal(a.target, 3, 'n1 is cold row 3, not a miss');
  assert.ok(
    Array.from(a.items).every((r) => r <= 2),
    'inputs hold warm rows only',
  );
  const ids = [...split.vocab, ...split.cold];
  const bl = contentKnn(split.train, ids, log.meta);
  const out = new Float32Array(ids.length + 1);
  bl.score(Int32Array.of(ids.indexOf('s1') + 1), out);
  assert.ok(out[3] > out[4], 'soup after soup: n1 above n2');
  assert.deepEqual(contentTokens(log.meta.get('n1')), ['c:food', 'c:food>soup', 'w:green', 'w:soup', 'w:can']);
});
