import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { errorText, prefixLines, step, warn } from './log';

/** Shutdown order: the reverse of the dependency chain, whatever order things came up in. */
export const STOP_ORDER = ['bot', 'api', 'worker', 'agent', 'tls-site', 'yookassa', 'temporal', 'postgres'];

export interface Child {
  name: string;
  proc: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  running(): boolean;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Report an exit as unexpected (default true); `watch()` can arm it later. */
  watch?: boolean;
  /** How to stop it; default SIGTERM, then SIGKILL after 15 s. */
  stop?: (child: Child) => Promise<void>;
}

interface Entry {
  name: string;
  stop: () => Promise<void>;
  child?: Child;
  args?: string[];
  watched: boolean;
}

/**
 * Owns every process `npm run dev` starts. Children run detached (their own process group), so a
 * terminal's Ctrl-C reaches only us and we stop them in STOP_ORDER. Their pids go to `pidFile`, so a
 * later run can clean up after a run that was killed with SIGKILL.
 */
export class Supervisor {
  private readonly entries: Entry[] = [];
  stopping = false;

  constructor(
    private readonly pidFile: string,
    private readonly onUnexpectedExit: (name: string, how: number | string) => void,
  ) {}

  spawn(name: string, cmd: string, args: string[], opts: SpawnOptions = {}): Child {
    if (this.stopping) throw new Error(`not starting ${name}: shutting down`);
    const proc = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    prefixLines(name, proc.stdout, process.stdout);
    prefixLines(name, proc.stderr, process.stderr);
    const exited = new Promise<number | string>((resolve) => {
      proc.once('error', (err) => {
        warn(`${name}: cannot start ${cmd}: ${errorText(err)}`);
        resolve('spawn-error');
      });
      proc.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    });
    const child: Child = {
      name,
      proc,
      exited,
      running: () => proc.exitCode === null && proc.signalCode === null,
    };
    const stop = () => (opts.stop ?? terminate)(child);
    const entry: Entry = { name, child, args, watched: opts.watch ?? true, stop };
    this.entries.push(entry);
    this.savePids();
    void exited.then((how) => {
      if (entry.watched && !this.stopping) this.onUnexpectedExit(name, how);
    });
    if (proc.pid) step(`${name}: started (pid ${proc.pid})`);
    return child;
  }

  /** Arm the unexpected-exit report for a child started with `watch: false`. */
  watch(child: Child): void {
    const entry = this.entries.find((e) => e.child === child);
    if (!entry) return;
    entry.watched = true;
    if (!child.running() && !this.stopping)
      this.onUnexpectedExit(child.name, child.proc.exitCode ?? 'unknown');
  }

  /** Forget a child that has already exited (e.g. a first attempt that is retried). */
  forget(child: Child): void {
    const i = this.entries.findIndex((e) => e.child === child);
    if (i >= 0) this.entries.splice(i, 1);
  }

  /** A resource that is not a child process (an in-process server, a pg_ctl-managed PostgreSQL). */
  add(name: string, stop: () => Promise<void>): void {
    this.entries.push({ name, stop, watched: false });
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    const rank = (e: Entry) => {
      const r = STOP_ORDER.indexOf(e.name);
      return r < 0 ? -1 : r;
    };
    const ordered = [...this.entries].sort((a, b) => rank(a) - rank(b));
    for (const entry of ordered) {
      if (entry.child && !entry.child.running()) continue;
      step(`stopping ${entry.name}`);
      try {
        await entry.stop();
      } catch (err) {
        warn(`${entry.name}: stop failed: ${errorText(err)}`);
      }
    }
    this.entries.length = 0;
    this.savePids();
  }

  private savePids(): void {
    const children = this.entries
      .filter((e) => e.child?.running())
      .map((e) => ({ name: e.name, pid: e.child!.proc.pid, args: e.args }));
    writeFileSync(this.pidFile, JSON.stringify({ owner: process.pid, children }, null, 2));
  }
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function terminate(
  child: Child,
  graceMs = 15_000,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (!child.running()) return;
  child.proc.kill(signal);
  const timer = setTimeout(() => {
    warn(`${child.name}: still running after ${graceMs / 1000} s, killing it`);
    child.proc.kill('SIGKILL');
  }, graceMs);
  await child.exited;
  clearTimeout(timer);
}
