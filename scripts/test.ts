/**
 * `npm test`: every check in order, each stage's output as it runs, then one summary of what passed and
 * what failed. A stage that the later ones need (the build, the fixtures) stops the run when it fails;
 * the others all run, so one report shows every failure. Exit status 1 when anything failed.
 *
 *   npm test                 all stages
 *   npm test -- unit lint    only the named stages (build first when a named stage needs it)
 */
import { spawn } from 'node:child_process';

interface Stage {
  name: string;
  command: string;
  /** Later stages cannot run without it. */
  needed?: boolean;
  /** Counts tests: node's test runner prints `# pass N` and `# fail N`. */
  tests?: boolean;
}

const STAGES: Stage[] = [
  { name: 'build', command: 'tsx scripts/build.ts', needed: true },
  { name: 'size', command: 'tsx scripts/size.ts' },
  { name: 'typecheck', command: 'tsc --noEmit -p tsconfig.json' },
  { name: 'format', command: 'prettier --check --log-level warn .' },
  { name: 'lint', command: 'eslint --max-warnings 0 .' },
  { name: 'fixtures', command: 'tsx scripts/fixture.ts && tsx scripts/demo-data.ts', needed: true },
  {
    name: 'unit',
    command: 'node --import tsx --test src/*.test.ts src/*/*.test.ts scripts/lib/*.test.ts',
    tests: true,
  },
  { name: 'e2e', command: 'node --import tsx --test --test-concurrency=1 e2e/*.test.ts', tests: true },
];

interface Outcome {
  stage: Stage;
  status: 'passed' | 'failed' | 'skipped';
  seconds: number;
  pass?: number;
  fail?: number;
}

function run(stage: Stage): Promise<Omit<Outcome, 'stage'>> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    process.stdout.write(`\n── ${stage.name}: ${stage.command}\n`);
    const child = spawn(stage.command, { shell: true, stdio: ['ignore', 'pipe', 'inherit'] });
    let tail = '';
    child.stdout.on('data', (b: Buffer) => {
      process.stdout.write(b);
      tail = (tail + b.toString()).slice(-4000);
    });
    child.on('close', (code) => {
      const count = (k: string) => {
        const m = tail.match(new RegExp(`^# ${k} (\\d+)$`, 'm'));
        return m ? Number(m[1]) : undefined;
      };
      resolve({
        status: code === 0 ? 'passed' : 'failed',
        seconds: (Date.now() - t0) / 1000,
        ...(stage.tests ? { pass: count('pass'), fail: count('fail') } : {}),
      });
    });
  });
}

const only = process.argv.slice(2);
const unknown = only.filter((n) => !STAGES.some((s) => s.name === n));
if (unknown.length) {
  console.error(`unknown stage ${unknown.join(', ')}; stages: ${STAGES.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const chosen = only.length ? STAGES.filter((s) => only.includes(s.name) || (s.needed && s.name === 'build')) : STAGES;

const outcomes: Outcome[] = [];
let stopped = false;
for (const stage of chosen) {
  if (stopped) {
    outcomes.push({ stage, status: 'skipped', seconds: 0 });
    continue;
  }
  const o = { stage, ...(await run(stage)) };
  outcomes.push(o);
  if (o.status === 'failed' && stage.needed) stopped = true;
}

const width = Math.max(...outcomes.map((o) => o.stage.name.length));
console.log('\n── summary');
for (const o of outcomes) {
  const tests = o.pass !== undefined ? `  ${o.pass} passed, ${o.fail ?? 0} failed` : '';
  console.log(`${o.stage.name.padEnd(width)}  ${o.status.padEnd(7)} ${o.seconds.toFixed(0).padStart(4)} s${tests}`);
}
const failed = outcomes.filter((o) => o.status !== 'passed');
const pass = outcomes.reduce((a, o) => a + (o.pass ?? 0), 0);
const fail = outcomes.reduce((a, o) => a + (o.fail ?? 0), 0);
console.log(`stages: ${outcomes.length - failed.length} passed, ${failed.length} failed`);
console.log(`tests: ${pass} passed, ${fail} failed`);
process.exit(failed.length ? 1 : 0);
