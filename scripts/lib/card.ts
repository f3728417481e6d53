import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

/** SRI-style sha384 hashes of a model directory's files, by the names model.json uses. */
export function sri(dir: string): Record<string, string> {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const files = [
    'model.json',
    ...json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths),
    json.userDefinedMetadata.shelfwise.vocab,
    ...(json.userDefinedMetadata.shelfwise.visit ? [json.userDefinedMetadata.shelfwise.visit.path] : []),
  ];
  return Object.fromEntries(
    files.map((f) => [
      f,
      'sha384-' +
        crypto
          .createHash('sha384')
          .update(fs.readFileSync(path.join(dir, f)))
          .digest('base64'),
    ]),
  );
}

/**
 * MODEL_CARD.md beside a trained model: the verdict against the baselines, data (and, for the shipped
 * Online Retail model, its attribution), command, config, metrics with baselines, limitations.
 */
export function writeModelCard(dir: string, s: any, argv: string[], onlineRetail: boolean): void {
  if (!onlineRetail) {
    const cols = ['ndcg@10', 'hr@10', 'ndcg@20', 'hr@20', 'mrr'];
    const rows = Object.entries(s.metrics as Record<string, Record<string, number>>).map(
      ([n, m]) => `| ${n} | ${cols.map((c) => m[c].toFixed(4)).join(' | ')} |`,
    );
    fs.writeFileSync(
      path.join(dir, 'MODEL_CARD.md'),
      `# shelfwise model card: ${s.dataset}\n\n**Verdict: ${s.verdict}.**\n\nCommand: \`npm run train -- ${argv.join(' ')}\`\n\nConfig: \`${JSON.stringify(s.config)}\`; ${s.epochs} epochs in ${s.minutes.toFixed(1)} min.\n\n${visitPartText(s.visitPart)}\n\n${contentPartText(s.contentPart)}\n\n${sendText(s.items === 'sharded')}\n\n## Evaluation (${s.protocol})\n\n| method | ${cols.join(' | ')} |\n| --- | ${cols.map(() => '---').join(' | ')} |\n${rows.join('\n')}\n\n${protocolTable(s.protocols)}\n`,
    );
    return;
  }
  const cols = ['ndcg@10', 'hr@10', 'ndcg@20', 'hr@20', 'mrr'];
  const rows = Object.entries(s.metrics as Record<string, Record<string, number>>).map(
    ([n, m]) => `| ${n} | ${cols.map((c) => m[c].toFixed(4)).join(' | ')} |`,
  );
  const q = Object.entries(s.quantization as Record<string, { bytes: number; model: Record<string, number> }>).map(
    ([k, v]) =>
      `| ${k} | ${(v.bytes / 1024).toFixed(0)} KiB | ${v.model['ndcg@10'].toFixed(4)} | ${v.model['hr@10'].toFixed(4)} |`,
  );
  const best = s.metrics[s.bestBaseline];
  const text = `# shelfwise model card: online-retail

**Verdict: ${s.verdict}.**

A SASRec-style causal transformer over a shopper's item / event-type / time-gap sequence with a return
part (the shopper's own items, from their counts per event type, baskets, recency and cycle, mixed with
the catalog softmax by a learned gate), trained with shelfwise's own trainer (tfjs, ${s.backend} backend)
and shipped as a tfjs weights manifest.

## Data and attribution
Trained on the **Online Retail** and **Online Retail II (2009-2010 sheet)** data sets: Chen, D., Sain, S. L.,
& Guo, K. (2012). *Data mining for the online retail industry: A case study of RFM model-based customer
segmentation using data mining.* UCI Machine Learning Repository. Licensed under **CC BY 4.0**
(https://creativecommons.org/licenses/by/4.0/). catalog.json carries the products' descriptions and unit
prices from these data sets (the demo shows them; the SDK reads only the ids in vocab.json). Changes made: cleaning and splitting as described below.

Cleaning (scripts/lib/data.ts): rows without a customer id dropped; non-product stock codes (postage,
fees, manual adjustments) dropped; the two sheets' overlapping December 2010 lines de-duplicated;
cancellation ("C") lines kept as \`remove_from_cart\` events (input only, never a prediction target);
lines of one invoice share the invoice's timestamp and keep the file's order.

## Training
Command: \`npm run train -- ${argv.join(' ')}\`

Config: \`${JSON.stringify(s.config)}\`

${s.epochs} epochs in ${s.minutes.toFixed(1)} min on a 2-core machine (${s.seqPerSec.toFixed(0)} training sequences/s,
${s.gflops.toFixed(2)} effective GFLOPS; the backend's matmul peak measured in the same run: ${s.peakGflops.toFixed(1)} GFLOPS).
Training predicts, at the end of each basket (an invoice's lines share a timestamp), every item of the
next one, each basket weighted once; the loss is the negative log of the return/discover mixture with the
full softmax over all items.${visitText(s.training)} Adam, reduce-on-plateau and early stopping on validation
NDCG@10 (each customer's last basket before the cut-off${s.training?.validAlso?.length ? `, and ${s.training.validAlso.join(', ')}: the epoch with the best mean of the model's NDCG@10 over the best baseline's on each` : ''}), the best epoch's weights exported.

## Evaluation (${s.protocol})
Every method ranks all ${s.config.vocabSize - 1} items; a test item outside the vocabulary counts as a miss for all.
Baselines: popularity, co-occurrence, Markov, and the shopper's own items by count (repeat_frequency,
"buy again") and by recency (repeat_recency). The whole next basket (\`npm run evaluate -- --model
models/online-retail --dataset online-retail --protocol basket\`): see BENCHMARKS.md.

| method | ${cols.join(' | ')} |
| --- | ${cols.map(() => '---').join(' | ')} |
${rows.join('\n')}

Model / best baseline (${s.bestBaseline}) NDCG@10: **${(s.metrics.model['ndcg@10'] / best['ndcg@10']).toFixed(3)}×**.

${protocolTable(s.protocols)}

${visitPartText(s.visitPart)}

${contentPartText(s.contentPart)}

Quantization (shipped: the smallest whose NDCG@10 is within 1% of float32):

| weights | size with vocabulary | NDCG@10 | HR@10 |
| --- | --- | --- | --- |
${q.join('\n')}

## Integrity
SRI hashes of the files as shipped; pass them as the \`integrity\` option (or check a CDN copy against them):

\`\`\`json
${JSON.stringify(sri(dir), null, 2)}
\`\`\`

## Limitations
- One UK gift shop, 2009-2011, mostly wholesale customers: purchase lines only (no views or clicks). The
  config's \`typeMap\` reads a view, click, add to cart or search as a purchase, the signal the model
  learned (their own embeddings were never trained); the time-gap buckets were learned from purchase gaps
  only.
- ${sendText(s.items === 'sharded')}
- The return part reads the shopper's whole stored history (up to \`maxEvents\`, 1,000 by default); a
  history trimmed shorter than the customer's real one counts their items less often than offline.
- Next-purchase ranking quality on this shop does not transfer to other catalogs: a shop should train on
  its own export (\`npm run data -- --input ...\`).
`;
  fs.writeFileSync(path.join(dir, 'MODEL_CARD.md'), text);
}

/** What a shop must send for a product to be ranked, and what happens without it. */
export function sendText(sharded: boolean): string {
  return `What a shop must send for a product to be ranked: its id, for a product the model was trained with (${sharded ? 'a sharded item directory, `items/`: the page fetches the codes of the products it shows' : 'the item table holds every one'}); its content (title, category, brand, price) for one added since, where the model has a content part. A product with neither keeps a fixed place (\`unknownPrior\`) in the merchant's order.`;
}

/** What a product added after training gets: the content part (src/model/content.ts), or a fixed place. */
export function contentPartText(c: { tokens: number; drop: number } | null | undefined): string {
  return c
    ? `Products added after training are ranked from their content (title, category, brand, price): the content part, ${c.tokens} tokens in \`content.bin\`, trained with ${(c.drop * 100).toFixed(0)}% of the id vectors dropped per step.`
    : 'No content part: a product added after training sits at `unknownPrior` (`--content 0.1` trains one).';
}

/** The visit part (src/model/visit.ts) as the model directory has it, with its validation, in a paragraph. */
export function visitPartText(v: any): string {
  if (!v) return 'No visit part (the log has no timestamps, or `--no-visit-part`): the model ranks alone.';
  const f = (x: number) => x.toFixed(4);
  return `### The visit part (\`${v.path}\`)
For each item its ${v.companions} strongest companions in the training sessions (items within ${v.window ?? 5} events of
it in one session, the window chosen on validation, weighted P(j | i)). While a session is under way (events under 30 minutes apart, the last
under 30 minutes ago) its items vote for their companions, the newest most (×${v.decay} per event back), and
that distribution is mixed with the model's: λ ${v.lambdaNew} for a shopper with nothing stored before this
session, λ ${v.lambdaReturning} for a returning one; without a session the model ranks alone. λ and the decay
were chosen on validation NDCG@10 (new shopper ${f(v.valid.newModel)} → ${f(v.valid.newVisit)}, returning
${f(v.valid.returningModel)} → ${f(v.valid.returningVisit)}, model alone → with the visit part).`;
}

/** Every protocol the model was tested on: the model against the best baseline of the same run. */
function protocolTable(protocols: Record<string, any> | undefined): string {
  if (!protocols || !Object.keys(protocols).length) return '';
  const names: Record<string, string> = {
    item: 'next purchase',
    basket: 'next basket',
    'visit-new': 'the visit, new shopper (the visit only)',
    'visit-returning': 'the visit, returning shopper (history + visit)',
    session: "the target's own session only",
  };
  const rows = Object.entries(protocols).map(
    ([k, v]) =>
      `| ${names[k] ?? k} | ${v.users} | ${v.model['ndcg@10'].toFixed(4)} | ${v.bestBaseline} ${v.baseline['ndcg@10'].toFixed(4)} | ${v.ratio.toFixed(3)}× |`,
  );
  return `### Every protocol (\`npm run evaluate -- --protocol ...\`; docs/training.md, "Protocols")\n\n| protocol | users | model NDCG@10 | best baseline | model / best |\n| --- | --- | --- | --- | --- |\n${rows.join('\n')}`;
}

/** What the training did for the visit (docs/training.md, "What training predicts"), in a sentence or two. */
function visitText(t: any): string {
  if (!t || !(t.visit > 0 || t.visitWindows || t.itemInit === 'cooccurrence')) return '';
  const parts: string[] = [];
  if (t.visit > 0)
    parts.push(
      `up to 4 lines inside each basket also predict the rest of it (the catalog part only; weight ${t.visit} per basket against its next basket's 1)`,
    );
  if (t.visitWindows)
    parts.push(
      "each session after a customer's first is also a window without history, its lines spread 5-120 s apart as a page records clicks",
    );
  if (t.itemInit === 'cooccurrence')
    parts.push('the item table starts from the factorized cosine of items bought together');
  return ` For the visit: ${parts.join('; ')}.`;
}
