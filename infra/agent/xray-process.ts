import { type ChildProcess, spawn } from 'node:child_process';
import type { Logger } from 'pino';

/**
 * Runs Xray as a child of the agent (AGENT_SPAWN_XRAY=1, for dev and hosts without systemd) and
 * restarts it if it dies. The reconciler then re-applies the client list to the new process.
 */
export class XrayProcess {
  private child?: ChildProcess;
  private stopping = false;
  private restartTimer?: NodeJS.Timeout;

  constructor(
    private readonly bin: string,
    private readonly configPath: string,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.stopping = false;
    const child = spawn(this.bin, ['run', '-c', this.configPath], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    this.child = child;
    child.on('error', (e) => this.log.error({ err: e.message }, 'cannot start xray'));
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.stopping) return;
      this.log.warn({ code, signal }, 'xray exited; restarting in 1s');
      this.restartTimer = setTimeout(() => this.start(), 1_000);
    });
    this.log.info({ pid: child.pid, config: this.configPath }, 'xray started');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}
