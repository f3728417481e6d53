/**
 * The flags of `npm run data`, `npm run train` and `npm run evaluate`, each with its help text: the command
 * lines parse these objects (node:util parseArgs reads `type` and `default`), and `npm run docs` writes
 * docs/flags.md from them, so the reference cannot drift from what the scripts accept.
 */
import os from 'node:os';

export interface FlagSpec {
  type: 'string' | 'boolean';
  default?: string;
  /** The value, as the reference shows it (`N`, `auto|N`, a list of words). */
  value?: string;
  /** The default as the reference shows it, where it depends on the machine. */
  shown?: string;
  help: string;
}

const TRAIN = {
  dataset: {
    type: 'string',
    default: 'online-retail',
    value: 'online-retail|ml-1m|beauty|taobao|FILE.tsv|NAME',
    help: 'The log to train on: a shared data set, a normalized log written by `npm run data`, or its name in .cache/data/.',
  },
  out: { type: 'string', value: 'DIR', help: 'Where the model directory goes (default .cache/models/<data set>).' },
  epochs: { type: 'string', default: '200', value: 'N', help: 'At most this many epochs.' },
  batch: { type: 'string', default: '64', value: 'N', help: 'Training windows per batch.' },
  lr: { type: 'string', default: '0.002', value: 'RATE', help: "Adam's learning rate." },
  'lr-drop': {
    type: 'string',
    value: 'EPOCH:FACTOR,...',
    help: 'Step schedule: after epoch EPOCH the rate is multiplied by FACTOR (above 1 raises it again: a warm restart). A resumed run follows the same schedule.',
  },
  plateau: {
    type: 'string',
    default: '0.3',
    value: 'FACTOR',
    help: 'Reduce on plateau: after an epoch that does not beat the best validation NDCG@10, the weights go back to the best ones and the rate is multiplied by FACTOR (0 = off).',
  },
  patience: {
    type: 'string',
    default: '3',
    value: 'N',
    help: 'Early stop after N epochs without a validation gain.',
  },
  minutes: {
    type: 'string',
    default: '40',
    value: 'N',
    help: 'Time budget: training stops at N minutes, mid-epoch, after validating what it has (0 = none). The best validated weights are exported.',
  },
  d: {
    type: 'string',
    default: '64',
    value: 'N',
    help: 'Width of the item, type and position embeddings and of the blocks.',
  },
  blocks: { type: 'string', default: '2', value: 'N', help: 'Transformer blocks.' },
  heads: { type: 'string', default: '1', value: 'N', help: 'Attention heads (d must be a multiple).' },
  'max-len': {
    type: 'string',
    default: 'auto',
    value: 'auto|N',
    help: "Events the model reads. auto: the median training sequence's length, in steps of 50, from 50 to 200.",
  },
  ff: { type: 'string', value: 'N', shown: '4·d', help: 'Width of the feed-forward hidden layer.' },
  'ff-act': { type: 'string', default: 'gelu', value: 'gelu|relu', help: 'Activation of the feed-forward layer.' },
  'no-emb-scale': { type: 'boolean', help: 'Do not scale item embeddings by √d where they enter the blocks.' },
  dropout: {
    type: 'string',
    default: '0.2',
    value: 'P',
    help: 'Dropout on the embeddings, each residual branch, the attention probabilities and the feed-forward hidden layer.',
  },
  'no-inner-dropout': {
    type: 'boolean',
    help: 'Keep dropout to the embeddings and the residual branches (not the attention probabilities and the feed-forward hidden layer).',
  },
  'rel-pos': {
    type: 'boolean',
    help: 'A learned attention bias per distance between events, in each block (off: it did not beat the default on validation).',
  },
  'no-types': { type: 'boolean', help: 'Do not read event types (view, click, cart, purchase, …).' },
  'no-time': { type: 'boolean', help: 'Do not read the time gaps between events.' },
  sampled: {
    type: 'string',
    default: 'auto',
    value: 'auto|N',
    help: 'A sampled softmax with N negatives instead of the full one over all items (0 = full). auto: 2,048 above 20,000 items, else full.',
  },
  negatives: {
    type: 'string',
    default: 'mixed',
    value: 'mixed|uniform',
    help: 'With --sampled: contrast each target with every item of the batch plus N uniform draws (mixed), or with N uniform draws of its own (uniform, as sampled-softmax SASRec does).',
  },
  'mask-seen': {
    type: 'boolean',
    help: "Leave the items a training window already holds out of each target's softmax (the default where seen items are excluded from the ranking: ML-1M, Beauty).",
  },
  'no-mask-seen': {
    type: 'boolean',
    help: 'Keep seen items in the training softmax even where they are excluded from the ranking.',
  },
  weigh: {
    type: 'string',
    default: 'target',
    value: 'target|batch',
    help: "target: every training target weighs alike over the epoch; batch: each (length-sorted) batch's mean loss weighs alike, which gives a short window's targets several times the weight of a long one's.",
  },
  visit: {
    type: 'string',
    default: '0',
    value: 'W',
    help: "Targets inside a visit: up to 4 events inside each basket (events sharing a timestamp) also predict the rest of that basket, training the catalog part; they share the weight W, against 1 for the basket's next-basket target (0 = next basket only).",
  },
  content: {
    type: 'string',
    default: '0',
    value: 'SHARE',
    help: "The content part: each product's row is its id vector plus the mean of its content tokens' vectors (title words, category levels, brand, price band), and each step drops the id vectors of this share of the products, so that a product added after training is ranked from its content (content.bin beside the model). 0 = off. Trains on one thread.",
  },
  'visit-windows': {
    type: 'boolean',
    help: "Also train on each session after a shopper's first (gaps under 30 minutes) as a window of its own, without history: a new shopper's visit, its basket lines spread over the seconds a page visit takes.",
  },
  'item-init': {
    type: 'string',
    default: 'random',
    value: 'cooccurrence|random',
    help: "The item table's start: the factorized co-occurrence of items in one session (so a visit's items point at their companions from the first step), or random.",
  },
  'weight-decay': {
    type: 'string',
    default: '0',
    value: 'W',
    help: 'Decoupled weight decay (AdamW): after each step every embedding table and weight matrix is multiplied by 1 − lr·W.',
  },
  'label-smoothing': {
    type: 'string',
    default: '0',
    value: 'E',
    help: "Each target's loss mixes in E of the mean −log p over the items its softmax ranges over.",
  },
  ema: {
    type: 'string',
    default: '0',
    value: 'B',
    help: 'Keep an exponential moving average of the weights (avg = B·avg + (1 − B)·weights after each step); validation, early stopping and the export use it.',
  },
  'adam-beta2': {
    type: 'string',
    default: '0.999',
    value: 'B',
    help: "Adam's decay of its running mean of squared gradients.",
  },
  seed: {
    type: 'string',
    default: '42',
    value: 'N',
    help: 'Seed of the initial weights, the batches and the dropout.',
  },
  protocol: {
    type: 'string',
    default: 'item',
    value: 'item|basket|visit-new|visit-returning|session',
    help: 'What validation and the test measure (docs/training.md, "Protocols").',
  },
  'valid-also': {
    type: 'string',
    value: 'PROTOCOL,...',
    help: "Validate on these protocols' validation sets too (e.g. visit-new): the epoch is then chosen by the mean, over every set, of the model's NDCG@10 over the best baseline's on it.",
  },
  cutoff: {
    type: 'string',
    value: 'YYYY-MM-DD',
    help: 'Split by time at this date (Online Retail: 2011-09-01); other logs are split leave-one-out without it.',
  },
  'min-count': {
    type: 'string',
    value: 'N',
    help: 'With a time split: the vocabulary keeps items seen at least N times before the cut-off.',
  },
  'exclude-seen': {
    type: 'boolean',
    help: "Leave the shopper's own items out of the ranking (default for ML-1M and Beauty).",
  },
  'include-seen': { type: 'boolean', help: "Keep the shopper's own items in the ranking (default elsewhere)." },
  'return-items': {
    type: 'string',
    value: 'K',
    shown: '128',
    help: "The return part scores up to K of the shopper's own items (0 = off; off where seen items are excluded).",
  },
  'return-hidden': { type: 'string', default: '32', value: 'H', help: "Hidden width of the return part's scorer." },
  quantize: {
    type: 'string',
    default: 'float16',
    value: 'float32|float16|uint8',
    help: 'How the exported weights are stored (uint8: one byte per weight with a per-tensor scale).',
  },
  items: {
    type: 'string',
    default: 'auto',
    value: 'table|sharded|auto',
    help: 'How the products ship: one item table in the weights (the page downloads every product), or a sharded directory of product-quantized codes (32 bytes at d 64) (the page fetches the shards of the products it shows). auto: sharded above 5,000 products.',
  },
  'max-users': { type: 'string', value: 'N', help: 'Read only the first N users of the log (quick runs).' },
  'valid-users': {
    type: 'string',
    default: '5000',
    value: 'N',
    help: 'Validate each epoch on N users spread evenly over the data set (0 = all).',
  },
  workers: {
    type: 'string',
    default: String(Math.min(8, os.availableParallelism())),
    value: 'N',
    shown: 'the cores, at most 8',
    help: "Threads that compute gradients (each batch split over them). Node's wasm backend uses one thread each.",
  },
  backend: {
    type: 'string',
    value: 'auto|tensorflow|wasm|cpu',
    help: 'The tfjs backend (auto: tfjs-node where installed, else wasm).',
  },
  json: { type: 'string', value: 'FILE', help: 'Write the run (config, epochs, test metrics, verdict) as JSON.' },
  'no-visit-part': {
    type: 'boolean',
    help: "Export the sequence model alone, without the visit part (the companions of the session's items, src/model/visit.ts) that a log with timestamps otherwise gets.",
  },
  'no-card': { type: 'boolean', help: 'Do not write MODEL_CARD.md into the model directory.' },
  'require-better': {
    type: 'boolean',
    help: "Exit 1 when a baseline ranks better than the model on the test split (a shop's CI).",
  },
} as const satisfies Record<string, FlagSpec>;

const EVALUATE = {
  model: { type: 'string', value: 'DIR', help: 'The model directory (required).' },
  dataset: { type: 'string', value: TRAIN.dataset.value, help: 'The log to evaluate on (required).' },
  protocol: TRAIN.protocol,
  cutoff: TRAIN.cutoff,
  'exclude-seen': TRAIN['exclude-seen'],
  'include-seen': TRAIN['include-seen'],
  'max-users': TRAIN['max-users'],
  finetune: {
    type: 'boolean',
    help: 'Also simulate the on-device adaptation per user (only their own history), reported as `finetuned`.',
  },
  'fit-visit': {
    type: 'boolean',
    help: "First fit the model's visit part on this log (companions from its training sessions, λ and decay on its validation users) and write it into the model directory, as training does.",
  },
  backend: TRAIN.backend,
  json: { type: 'string', value: 'FILE', help: 'Write the report as JSON.' },
} as const satisfies Record<string, FlagSpec>;

const DATA = {
  from: {
    type: 'string',
    value: 'ga4|shopify|segment|csv',
    help: "Read a shop's exports, the files named after the flags: GA4's BigQuery `events_*` tables (Parquet or newline-delimited JSON), Shopify's orders CSV, or Segment's per-event tables (CSV or Parquet, e.g. product_viewed.csv, order_completed.parquet); needs --name. `csv`: one flat file with the column flags (as --input).",
  },
  input: { type: 'string', value: 'FILE', help: "A shop's own CSV/TSV export (with --name, --user and --item)." },
  name: { type: 'string', value: 'NAME', help: 'The name of the normalized log (.cache/data/NAME.tsv).' },
  user: { type: 'string', value: 'COLUMN', help: 'The column that identifies the shopper.' },
  item: { type: 'string', value: 'COLUMN', help: 'The column that identifies the product.' },
  type: {
    type: 'string',
    value: 'COLUMN',
    help: "The event's type (GA4, Segment and shelfwise names are read; without it every row is a purchase).",
  },
  time: { type: 'string', value: 'COLUMN', help: "The event's time (ISO 8601, or a number of Unix seconds)." },
  title: { type: 'string', value: 'COLUMN', help: "The product's name (kept for the model's catalog.json)." },
  price: { type: 'string', value: 'COLUMN', help: "The product's price (kept for the model's catalog.json)." },
  delimiter: {
    type: 'string',
    value: 'CHAR',
    help: 'The field separator (default: a tab if the header line has one, else a comma).',
  },
  'session-gap': {
    type: 'string',
    value: 'SECONDS',
    help: 'Split each shopper into sessions at gaps longer than this (a click log without accounts).',
  },
  cancellations: {
    type: 'string',
    value: 'remove|drop',
    help: 'Online Retail: read cancelled invoice lines as cart removals (remove, the default) or drop them.',
  },
} as const satisfies Record<string, FlagSpec>;

const SYNTH = {
  products: {
    type: 'string',
    default: '1000000',
    value: 'N',
    help: "Products in the synthetic catalog (dunnhumby's real products, in variants above its 92,353).",
  },
  name: { type: 'string', value: 'NAME', help: "The log's name in .cache/data/ (default synth-<products>)." },
  'events-per-product': {
    type: 'string',
    default: '3',
    value: 'N',
    help: "About this many events per product: Online Retail's shoppers are replayed as often as that needs.",
  },
  zipf: { type: 'string', default: '0.6', value: 'S', help: 'Popularity within a category: rank r ∝ 1 / (r + 1)^S.' },
  seed: { type: 'string', default: '1', value: 'N', help: 'Seed of the catalog order and of every draw.' },
} as const satisfies Record<string, FlagSpec>;

export const COMMANDS = {
  data: {
    usage:
      'npm run data -- <online-retail|ml-1m|beauty|taobao|dunnhumby|all> | --from ga4|shopify|segment|csv FILES --name N | --input FILE --name N --user COL --item COL',
    flags: DATA,
  },
  train: { usage: 'npm run train -- --dataset <name|file.tsv> [flags]', flags: TRAIN },
  evaluate: { usage: 'npm run evaluate -- --model DIR --dataset <name|file.tsv> [flags]', flags: EVALUATE },
  synth: { usage: 'npm run synth -- [--products N] [flags]', flags: SYNTH },
} as const;

/** The flag reference in Markdown (docs/flags.md), one table per command. */
export function flagReference(): string {
  const out = [
    '# Command-line flags',
    '',
    'Generated by `npm run docs` from `scripts/lib/flag-specs.ts`, the objects the command lines parse. Every',
    'value is checked before any data is read: a value that is not a number, out of range or not one of the',
    'listed words stops the command with exit status 2 and a message naming the flag.',
  ];
  for (const [name, c] of Object.entries(COMMANDS)) {
    out.push('', `## npm run ${name}`, '', `\`${c.usage}\``, '', '| flag | default | meaning |', '| --- | --- | --- |');
    for (const [flag, s] of Object.entries(c.flags) as Array<[string, FlagSpec]>) {
      const f = s.type === 'boolean' ? `\`--${flag}\`` : `\`--${flag} ${s.value ?? 'VALUE'}\``;
      const dflt = s.shown ?? (s.default !== undefined ? `\`${s.default}\`` : '');
      out.push(`| ${f} | ${dflt} | ${s.help.replace(/\|/g, '\\|')} |`);
    }
  }
  return out.join('\n') + '\n';
}
