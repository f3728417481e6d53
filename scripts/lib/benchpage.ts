import fs from 'node:fs';
import path from 'node:path';

/** Writes dist/bench.html, the empty page (one #grid) both browser benchmarks run in. */
export function writeBenchPage(root: string): void {
  fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'dist/bench.html'),
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bench</title><link rel="icon" href="data:,"></head><body><div id="grid"></div></body></html>',
  );
}

/** The p-quantile of a sample (nearest rank below; p = 0.5 is the median). */
export const pct = (a: number[], p: number): number => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
