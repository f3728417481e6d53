import fs from 'node:fs';

/** Replaces (or appends) the section between <!-- bench:NAME --> markers in BENCHMARKS.md. */
export function updateSection(file: string, name: string, body: string): void {
  const start = `<!-- bench:${name} -->`,
    end = `<!-- /bench:${name} -->`;
  let text = fs.existsSync(file)
    ? fs.readFileSync(file, 'utf8')
    : "# shelfwise benchmarks\n\nEvery figure below was measured on this project's 2-core development machine by the command named with it.\n";
  const block = `${start}\n${body.trim()}\n${end}`;
  const i = text.indexOf(start),
    j = text.indexOf(end);
  text = i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  fs.writeFileSync(file, text);
}
