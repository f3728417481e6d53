// The merchandiser's panel. It uses only shelfwise's public surface: the script tag's recommender
// (shelfwise('ready')), and for the replay a second recommender from the ES module build.
const $ = (id) => document.getElementById(id);
const esc = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const FIRST_ROW = 12;
let rec = null,
  catalog = [],
  byId = new Map();
const rules = { pin: {}, boost: {}, bury: [], hideUnavailable: true };
let panelRanking = false;

const title = (id) => byId.get(id)?.title ?? id;
const verb = {
  view: 'viewed',
  click: 'clicked',
  add_to_cart: 'added',
  remove_from_cart: 'removed',
  purchase: 'bought',
  search: 'searched',
};

/** A ranked row's reason: what the shopper did with a returning item, the history item behind a discovered one, or its popularity. */
function why(r, history) {
  // A scored product that nothing the shopper did points to: it is there for its popularity.
  if (!r.reason) return r.score === null ? '–' : 'popular';
  if (r.source === 'return') return `<span class="ret">back: ${esc(r.reason)}</span>`;
  const ev = history
    .slice()
    .reverse()
    .find((e) => e.itemId === r.reason);
  return `because you ${verb[ev?.type] ?? 'viewed'} “${esc(title(r.reason))}”`;
}

function showBalance(share) {
  $('balance').textContent =
    share === null || share === undefined
      ? '–'
      : `${Math.round(100 * share)}% return (your own items) · ${Math.round(100 * (1 - share))}% discover`;
  $('balance-bar').value = share ?? 0;
}

function gridCandidates() {
  // The grid's products in the merchant's order (the catalog order), as the binding ranks them.
  const inGrid = new Set(
    [...document.querySelectorAll('#grid > [data-shelfwise-item]')].map((e) => e.dataset.shelfwiseItem),
  );
  return catalog
    .filter((p) => inGrid.has(p.id))
    .map((p) => ({ id: p.id, category: p.category, available: !p.outOfStock }));
}

async function refresh() {
  if (!rec) return;
  const history = await rec.history();
  $('timeline').innerHTML =
    history
      .slice()
      .reverse()
      .slice(0, 100)
      .map(
        (e) =>
          `<li><time>${new Date(e.ts).toLocaleTimeString()}</time> ${esc(e.type.replace(/_/g, ' '))} ${e.itemId ? '“' + esc(title(e.itemId)) + '”' : '“' + esc(e.query ?? '') + '”'}</li>`,
      )
      .join('') || '<li>No events yet: click a product.</li>';
  panelRanking = true;
  const ranked = await rec.rank(gridCandidates()).finally(() => {
    panelRanking = false;
  });
  $('before-after').querySelector('tbody').innerHTML = ranked
    .filter((r) => !r.hidden)
    .slice(0, FIRST_ROW)
    .map((r) => {
      const d = r.defaultPosition - r.position;
      const arrow =
        d > 0
          ? `<span class="up" aria-label="up ${d}">▲${d}</span>`
          : d < 0
            ? `<span class="down" aria-label="down ${-d}">▼${-d}</span>`
            : '=';
      return `<tr><td>${esc(title(r.itemId))}</td><td>${r.defaultPosition + 1}</td><td>${r.position + 1} ${arrow}</td><td>${r.score === null ? '–' : r.score.toFixed(2)}</td><td>${why(r, history)}</td></tr>`;
    })
    .join('');
  $('backend-now').textContent = rec.backend ?? 'none (merchant order)';
  $('rules-list').textContent = [
    ...Object.keys(rules.pin).map((id) => `pinned: ${title(id)}`),
    ...Object.keys(rules.boost).map((id) => `boosted: ${title(id)}`),
    ...rules.bury.map((id) => `buried: ${title(id)}`),
  ].join(' · ');
}

function apply() {
  shelfwise('options', {
    blend: Number($('blend').value) / 100,
    rules: { ...rules, categoryCap: $('cap').checked ? { top: FIRST_ROW, max: 2 } : undefined },
  });
  document.body.classList.toggle('show-oos', !rules.hideUnavailable);
  setTimeout(refresh, 50);
}

export function initPanel(cat) {
  catalog = cat;
  byId = new Map(cat.map((p) => [p.id, p]));
  $('rule-item').innerHTML = cat
    .slice(0, 300)
    .map((p) => `<option value="${esc(p.id)}">${esc(p.title)}</option>`)
    .join('');
  $('blend').addEventListener('input', () => {
    $('blend-out').textContent = `${$('blend').value}%`;
    apply();
  });
  $('pin').addEventListener('click', () => {
    rules.pin = { [$('rule-item').value]: 0 };
    apply();
  });
  $('boost').addEventListener('click', () => {
    rules.boost[$('rule-item').value] = 0.3;
    apply();
  });
  $('bury').addEventListener('click', () => {
    rules.bury.push($('rule-item').value);
    apply();
  });
  $('clear-rules').addEventListener('click', () => {
    rules.pin = {};
    rules.boost = {};
    rules.bury = [];
    apply();
  });
  $('hide-oos').addEventListener('change', () => {
    rules.hideUnavailable = $('hide-oos').checked;
    apply();
  });
  $('cap').addEventListener('change', apply);
  $('reset').addEventListener('click', () =>
    shelfwise('forget', () => {
      $('adapt-state').textContent = 'waiting for events';
      setTimeout(refresh, 50);
    }),
  );
  addEventListener('shelfwise:finetune', (e) => {
    $('adapt-state').textContent = describeAdaptation(e.detail);
  });
  $('adapt').addEventListener('click', async () => {
    if (!rec) return;
    $('adapt-state').textContent = 'adapting…';
    const info = await rec.finetune();
    if (!info) $('adapt-state').textContent = 'not available (no model)';
    refresh();
  });
  $('backend').addEventListener('change', async () => {
    $('backend-now').textContent = 'switching…';
    const ok = await rec.setBackend($('backend').value);
    if (!ok) $('backend-now').textContent = `${$('backend').value} failed (see the status line)`;
    refresh();
  });
  window.addEventListener('shelfwise:rank', (e) => {
    // The balance is the shopper's, whatever was ranked; the latency shown is the grid's.
    showBalance(e.detail.returnShare);
    if (!panelRanking)
      $('latency').textContent = `${e.detail.ms.toFixed(1)} ms${e.detail.incremental ? ' (incremental)' : ''}`;
  });
  let timer = 0;
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 120);
  };
  $('grid').addEventListener('click', later);
  document.addEventListener('click', (e) => {
    if (e.target.closest('#cart, #detail, #checkout')) later();
  });
  $('search').addEventListener('submit', later);
  shelfwise('ready', (r) => {
    rec = r;
    refresh();
  });
  initReplay();
  initPlan();
}

// ---------- replay: real held-out customers, ranked by the model in this page ----------
let replay = null,
  replayRec = null,
  one = null,
  lastReplay = null;

async function replayRecommender() {
  if (replayRec) return replayRec;
  const { createRecommender } = await import('/dist/esm/index.js');
  replayRec = await createRecommender({
    model: '/models/online-retail/model.json',
    consent: false,
    backend: rec?.backend ?? 'auto',
  });
  await replayRec.ready;
  return replayRec;
}

/**
 * 1-based position of `target` in the personalized ranking of the whole catalog, in the default order, and
 * under the buy-again rule a shop could use instead (the shopper's own items by how often they occur,
 * then the default order).
 */
async function positions(r, target, events) {
  const ranked = await r.rank(
    catalog.map((p) => p.id),
    { blend: 1, rules: { hideUnavailable: false } },
  );
  const count = new Map();
  for (const [id] of events) count.set(id, (count.get(id) ?? 0) + 1);
  const at = new Map(catalog.map((p, i) => [p.id, i]));
  const key = (id) => [count.get(id) ?? 0, at.get(id) ?? Infinity];
  const [tc, tp] = key(target);
  // Items ahead of the target under the rule: more occurrences, or as many and earlier in the default order.
  let ahead = 0;
  for (const p of catalog) {
    const [c, i] = key(p.id);
    if (c > tc || (c === tc && i < tp)) ahead++;
  }
  return {
    personalized: ranked.findIndex((x) => x.itemId === target) + 1,
    default: (at.get(target) ?? catalog.length) + 1,
    buyAgain: ahead + 1,
  };
}

async function initReplay() {
  const res = await fetch('/demo/.generated/replay.json').catch(() => null);
  replay = res && res.ok ? await res.json() : { unavailable: 'run npm start to generate it' };
  if (replay.unavailable) {
    $('replay-note').textContent =
      `Replay data (derived from ../shared/data by npm start) is not available here: ${replay.unavailable}.`;
    for (const id of ['replay-step', 'replay-play', 'replay-all']) $(id).disabled = true;
    return;
  }
  $('replay-note').textContent =
    `${replay.customers.length} customers held out by the ${replay.protocol}. For each: their real events before the cut-off, then where their actual next purchase sits.`;
  $('customer').innerHTML = replay.customers
    .slice(0, 400)
    .map((c, i) => `<option value="${i}">customer ${esc(c.customer)} (${c.historyLength} events)</option>`)
    .join('');
  $('customer').addEventListener('change', () => {
    one = null;
    $('replay-one').textContent = '';
  });
  $('replay-step').addEventListener('click', () => stepOne());
  $('replay-play').addEventListener('click', async () => {
    do {
      await stepOne();
    } while (one && one.k < one.c.events.length);
  });
  $('replay-all').addEventListener('click', replayAll);
}

async function stepOne() {
  const r = await replayRecommender();
  if (!one || one.k >= one.c.events.length) {
    await r.forget();
    one = { c: replay.customers[Number($('customer').value)], k: 0 };
  }
  const [id, type, ts] = one.c.events[one.k++];
  await r.track({ type, itemId: id, ts });
  const p = await positions(r, one.c.next, one.c.events.slice(0, one.k));
  $('replay-one').innerHTML =
    `After event ${one.k}/${one.c.events.length} (${esc(type.replace(/_/g, ' '))} “${esc(title(id))}”): the actual next purchase “${esc(title(one.c.next))}” is <strong>#${p.personalized}</strong> personalized vs <strong>#${p.buyAgain}</strong> by buy-again and <strong>#${p.default}</strong> in the default order.`;
}

async function replayAll() {
  const r = await replayRecommender();
  const n = $('sample').value === 'all' ? replay.customers.length : Number($('sample').value);
  // A fresh random sample of the held-out customers on each click.
  const idx = replay.customers.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const pick = idx.slice(0, n).map((i) => replay.customers[i]);
  const prog = $('replay-progress');
  prog.hidden = false;
  prog.max = pick.length;
  prog.value = 0;
  $('replay-all').disabled = true;
  const rows = [];
  for (const c of pick) {
    await r.forget();
    for (const [id, type, ts] of c.events) await r.track({ type, itemId: id, ts });
    rows.push({ ...(await positions(r, c.next, c.events)), len: c.historyLength });
    prog.value = rows.length;
    if (rows.length % 5 === 0) await new Promise((res) => setTimeout(res, 0));
  }
  $('replay-all').disabled = false;
  prog.hidden = true;
  lastReplay = rows;
  showPlan();
  const share = (a, k) => a.filter((x) => x[k] <= FIRST_ROW).length / Math.max(1, a.length);
  const mean = (a, k) => a.reduce((s, x) => s + x[k], 0) / Math.max(1, a.length);
  $('replay-results').innerHTML =
    `<table><caption class="small">${rows.length} customers replayed in this page on ${esc(r.backend)}</caption>
    <thead><tr><th scope="col"></th><th scope="col">next purchase in first row (top ${FIRST_ROW})</th><th scope="col">mean rank</th></tr></thead>
    <tbody><tr><th scope="row">personalized</th><td data-k="p-share">${(100 * share(rows, 'personalized')).toFixed(1)}%</td><td data-k="p-mean">${mean(rows, 'personalized').toFixed(0)}</td></tr>
    <tr><th scope="row">buy again (own items by count)</th><td data-k="b-share">${(100 * share(rows, 'buyAgain')).toFixed(1)}%</td><td data-k="b-mean">${mean(rows, 'buyAgain').toFixed(0)}</td></tr>
    <tr><th scope="row">default (bestsellers)</th><td data-k="d-share">${(100 * share(rows, 'default')).toFixed(1)}%</td><td data-k="d-mean">${mean(rows, 'default').toFixed(0)}</td></tr></tbody></table>`;
  const buckets = [
    [1, 20],
    [21, 100],
    [101, 300],
    [301, Infinity],
  ];
  const svg = $('replay-chart');
  const bars = buckets
    .map(([a, b], i) => {
      const g = rows.filter((x) => x.len >= a && x.len <= b);
      const p = share(g, 'personalized'),
        b2 = share(g, 'buyAgain'),
        d = share(g, 'default');
      const x = 14 + i * 72,
        H = 100;
      return `<g><rect x="${x}" y="${120 - p * H}" width="20" height="${p * H}" fill="#0b5cad"><title>personalized ${(100 * p).toFixed(0)}% (${g.length} customers)</title></rect>
      <rect x="${x + 21}" y="${120 - b2 * H}" width="20" height="${b2 * H}" fill="#d08a1e"><title>buy again ${(100 * b2).toFixed(0)}%</title></rect>
      <rect x="${x + 42}" y="${120 - d * H}" width="20" height="${d * H}" fill="#9aa0aa"><title>default ${(100 * d).toFixed(0)}%</title></rect>
      <text x="${x + 31}" y="134" font-size="9" text-anchor="middle">${b === Infinity ? a + '+' : a + '–' + b} events</text>
      <text x="${x + 31}" y="145" font-size="8" text-anchor="middle" fill="#555">n=${g.length}</text></g>`;
    })
    .join('');
  svg.innerHTML = `<text x="4" y="10" font-size="9">share of next purchases in the first row, by history length</text>${bars}<text x="236" y="22" font-size="8" fill="#0b5cad">■ personalized</text><text x="236" y="32" font-size="8" fill="#d08a1e">■ buy again</text><text x="236" y="42" font-size="8" fill="#777">■ default</text>`;
}

function describeAdaptation(i) {
  const ms = i.timings ? ` in ${i.timings.totalMs.toFixed(0)} ms` : '';
  if (i.status === 'kept')
    return `kept: the latest event ranks #${i.after + 1} (was #${i.before + 1}), fitted on ${i.events} events${ms}`;
  if (i.status === 'worse')
    return `rejected by the guard (#${i.after + 1} vs #${i.before + 1} for the latest event): the pretrained model is used`;
  if (i.status === 'restored')
    return i.active
      ? `restored from this browser (kept: #${i.after + 1} vs #${i.before + 1})`
      : 'restored: the pretrained model (the last update was rejected)';
  if (i.status === 'too-short') return 'needs at least 3 events the model knows';
  return 'discarded (non-finite values)';
}

// ---------- A/B plan: the replay's two arms, their intervals, and the test size the lift needs ----------

/** Seeded uniform numbers (mulberry32), so a plan is the same for the same replay. */
function seeded(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hit rates in the first row per arm, their 95% bootstrap intervals and the lift's, over customers. */
export function abPlan(rows, slots = FIRST_ROW, resamples = 1000) {
  const hitP = rows.map((r) => (r.personalized <= slots ? 1 : 0)),
    hitC = rows.map((r) => (r.default <= slots ? 1 : 0));
  const mean = (a) => a.reduce((s, x) => s + x, 0) / Math.max(1, a.length);
  const rand = seeded(rows.length * 7919 + 1);
  const bp = [],
    bc = [],
    bl = [];
  for (let k = 0; k < resamples; k++) {
    let sp = 0,
      sc = 0;
    for (let i = 0; i < rows.length; i++) {
      const j = Math.floor(rand() * rows.length);
      sp += hitP[j];
      sc += hitC[j];
    }
    bp.push(sp / rows.length);
    bc.push(sc / rows.length);
    bl.push(sc > 0 ? sp / sc - 1 : NaN);
  }
  const ci = (a) => {
    const s = a.filter(Number.isFinite).sort((x, y) => x - y);
    return [s[Math.floor(0.025 * s.length)], s[Math.min(s.length - 1, Math.floor(0.975 * s.length))]];
  };
  const p = mean(hitP),
    c = mean(hitC);
  return {
    personalized: { rate: p, ci: ci(bp) },
    control: { rate: c, ci: ci(bc) },
    lift: { value: c > 0 ? p / c - 1 : NaN, ci: ci(bl) },
    customers: rows.length,
  };
}

/** Shoppers per arm for a two-sided two-proportion z-test (alpha 0.05, power 0.8) to detect base → base·(1 + lift). */
export function perArm(base, lift) {
  const p1 = base,
    p2 = Math.min(0.999, base * (1 + lift));
  if (!(p2 > p1)) return Infinity;
  const za = 1.959964,
    zb = 0.841621,
    pbar = (p1 + p2) / 2;
  const n =
    (za * Math.sqrt(2 * pbar * (1 - pbar)) + zb * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (p2 - p1) ** 2;
  return Math.ceil(n);
}

function showPlan() {
  if (!lastReplay?.length) return;
  const plan = abPlan(lastReplay);
  const base = Number($('conv-rate').value) / 100;
  const n = perArm(base, plan.lift.value);
  const pct = (x) => `${(100 * x).toFixed(1)}%`;
  const hasLift = Number.isFinite(plan.lift.value);
  $('ab-results').innerHTML = `<table><caption class="small">${plan.customers} replayed customers</caption>
    <thead><tr><th scope="col">arm</th><th scope="col">next purchase in the first row</th><th scope="col">95% interval</th></tr></thead>
    <tbody><tr><th scope="row">personalized</th><td data-k="ab-p">${pct(plan.personalized.rate)}</td><td>${pct(plan.personalized.ci[0])}–${pct(plan.personalized.ci[1])}</td></tr>
    <tr><th scope="row">control (merchant order)</th><td data-k="ab-c">${pct(plan.control.rate)}</td><td>${pct(plan.control.ci[0])}–${pct(plan.control.ci[1])}</td></tr></tbody></table>
    <p class="small">Relative lift: <strong data-k="ab-lift">${hasLift ? `${(100 * plan.lift.value).toFixed(0)}%` : 'n/a'}</strong> ${hasLift ? `(95% interval ${pct(plan.lift.ci[0])} to ${pct(plan.lift.ci[1])})` : '(the control arm has no first-row hit in this sample: replay more customers)'}.
    If your ${pct(base)} conversion rate rose by that share, a test at α 0.05 and power 0.8 needs <strong data-k="ab-n">${Number.isFinite(n) ? n.toLocaleString('en') : 'n/a'}</strong> shoppers per arm.</p>`;
  const H = 90,
    x = (i) => 60 + i * 120,
    y = (v) => 100 - (v * H) / Math.max(0.01, plan.personalized.ci[1], plan.control.ci[1]);
  $('ab-chart').innerHTML = [
    ['personalized', plan.personalized, '#0b5cad'],
    ['control', plan.control, '#9aa0aa'],
  ]
    .map(
      ([name, a, color], i) =>
        `<rect x="${x(i)}" y="${y(a.rate)}" width="60" height="${100 - y(a.rate)}" fill="${color}"><title>${name} ${pct(a.rate)}</title></rect>
     <line x1="${x(i) + 30}" x2="${x(i) + 30}" y1="${y(a.ci[0])}" y2="${y(a.ci[1])}" stroke="#222" stroke-width="1.5"/>
     <line x1="${x(i) + 22}" x2="${x(i) + 38}" y1="${y(a.ci[0])}" y2="${y(a.ci[0])}" stroke="#222"/><line x1="${x(i) + 22}" x2="${x(i) + 38}" y1="${y(a.ci[1])}" y2="${y(a.ci[1])}" stroke="#222"/>
     <text x="${x(i) + 30}" y="114" font-size="9" text-anchor="middle">${name} ${pct(a.rate)}</text>`,
    )
    .join('');
}

export function initPlan() {
  $('conv-rate').addEventListener('input', showPlan);
  shelfwise('ready', (r) => {
    const e = r.experiment;
    $('arm').textContent = e ? `${e.arm} (experiment “${e.name}”)` : 'no experiment';
    $('arm-switch').addEventListener('click', () => {
      const u = new URL(location.href);
      u.searchParams.set('shelfwise_arm', e?.arm === 'control' ? 'personalized' : 'control');
      location.href = u.href;
    });
  });
}
