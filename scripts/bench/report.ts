import { execFileSync } from 'node:child_process';
import os from 'node:os';

/** One measured figure: printed as one JSON line, then summarized in the table. */
export interface Figure {
  /** Benchmark or chaos scenario name, e.g. "payment_link_latency_ms". */
  name: string;
  [key: string]: unknown;
}

/** A column of the summary table: its header and how to read it from a figure. */
export interface Column {
  header: string;
  value: (f: Figure) => unknown;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  ram_gib: number;
  platform: string;
  node: string;
  load_avg: number[];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    ram_gib: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    load_avg: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

const cell = (v: unknown): string => {
  if (v === undefined || v === null) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '-';
  if (typeof v === 'boolean') return v ? 'yes' : 'NO';
  return String(v);
};

/** A console.table-like plain-text table (no ANSI, no index column). */
export function formatTable(columns: Column[], figures: Figure[]): string {
  const rows = figures.map((f) => columns.map((c) => cell(c.value(f))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => r[i].length)));
  const rule = (l: string, m: string, r: string) => l + widths.map((w) => '─'.repeat(w + 2)).join(m) + r;
  const line = (cells: string[]) =>
    '│' +
    cells
      .map((c, i) => {
        const numeric = /^-?[\d.]+$/.test(c);
        return ` ${numeric ? c.padStart(widths[i]) : c.padEnd(widths[i])} `;
      })
      .join('│') +
    '│';
  return [
    rule('┌', '┬', '┐'),
    line(columns.map((c) => c.header)),
    rule('├', '┼', '┤'),
    ...rows.map(line),
    rule('└', '┴', '┘'),
  ].join('\n');
}

/**
 * Where figures go: each as one JSON line the moment it is measured, then (finish) the summary
 * table and the machine the numbers were measured on.
 */
export class Reporter {
  readonly figures: Figure[] = [];
  private readonly startedMachine = machineInfo();

  constructor(private readonly out: { write(chunk: string): unknown } = process.stdout) {}

  emit(figure: Figure): Figure {
    this.figures.push(figure);
    this.out.write(`${JSON.stringify(figure)}\n`);
    return figure;
  }

  finish(title: string, columns: Column[], extra: Record<string, unknown> = {}): void {
    const m = this.startedMachine;
    const end = machineInfo().load_avg;
    this.out.write(`\n${title}\n${formatTable(columns, this.figures)}\n`);
    this.out.write(
      `\nmachine: ${m.cpu}, ${m.cores} cores, ${m.ram_gib} GiB RAM, ${m.platform}, node ${m.node}\n` +
        `load average (1/5/15 min): ${m.load_avg.join(' / ')} at start, ${end.join(' / ')} at end\n`,
    );
    this.out.write(`code: ${codeVersion()}\n`);
    for (const [k, v] of Object.entries(extra)) this.out.write(`${k}: ${v}\n`);
  }
}

/** The commit measured, and whether the working tree differed from it (other work in progress). */
export function codeVersion(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const changed = git('status', '--porcelain', '--untracked-files=no').split('\n').filter(Boolean).length;
    return `${git('rev-parse', '--short', 'HEAD')}${changed ? ` + ${changed} uncommitted file(s)` : ''}`;
  } catch {
    return 'unknown (no git)';
  }
}

/** Writes progress notes to stderr, so stdout carries only the figures. */
export function note(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
