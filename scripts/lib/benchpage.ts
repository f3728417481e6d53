import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes dist/bench.html, the empty page (one #grid) the browser benchmarks run in. Its `benchGrid(rec, ids,
 * codes?)` fills #grid with one element per product (with its code, given codes) and binds it with
 * immediate, unanimated reorders: `next()` resolves at the grid's next reorder.
 */
export function writeBenchPage(root: string): void {
  fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
  const helper = `window.benchGrid = function (rec, ids, codes) {
  var grid = document.getElementById('grid'), frag = document.createDocumentFragment(), resolve = function () {};
  grid.innerHTML = '';
  ids.forEach(function (id, i) {
    var el = document.createElement('div');
    el.setAttribute('data-shelfwise-item', id);
    if (codes) el.setAttribute('data-shelfwise-code', codes[i]);
    el.textContent = id;
    frag.appendChild(el);
  });
  grid.appendChild(frag);
  var g = rec.bindGrid(grid, { reorder: 'immediate', animationMs: 0, capture: false, onReorder: function () { resolve(); } });
  return { g: g, next: function () { return new Promise(function (r) { resolve = r; }); } };
};`;
  fs.writeFileSync(
    path.join(root, 'dist/bench.html'),
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bench</title><link rel="icon" href="data:,"><script>${helper}</script></head><body><div id="grid"></div></body></html>`,
  );
}

/** The p-quantile of a sample (nearest rank below; p = 0.5 is the median). */
export const pct = (a: number[], p: number): number => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
