import type { Readable } from 'node:stream';

/** One line per step, so a newcomer can follow what `npm run dev` does. */
export function step(line: string): void {
  process.stdout.write(`${tag()} ${line}\n`);
}

export function warn(line: string): void {
  process.stderr.write(`${tag()} ${line}\n`);
}

/** Seconds since this process started, so the 2-minute budget is visible step by step. */
const tag = () => `[dev +${process.uptime().toFixed(1)}s]`;

/** Copy a child's output to ours, each line prefixed with its name ("api      | ..."). */
export function prefixLines(name: string, stream: Readable | null, out: NodeJS.WriteStream): void {
  if (!stream) return;
  const prefix = `${name.padEnd(9)}| `;
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) out.write(`${prefix}${line}\n`);
  });
  stream.on('end', () => {
    if (rest) out.write(`${prefix}${rest}\n`);
    rest = '';
  });
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
