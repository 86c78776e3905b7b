import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { stopServices } from '../../infra/local/services';

type Out = { write(chunk: string): unknown };

/**
 * Runs `work` so that stdout carries only what it writes to `out` (the figures). The Temporal dev
 * server is a grandchild that inherits our stdout and prints a banner there, so the work runs in a
 * child process whose own stdout (and stderr) go to our stderr, while `out` is a dedicated pipe (fd 3)
 * copied to our stdout.
 */
export function runCli(entry: string, work: (out: Out) => Promise<void>): void {
  if (process.env.BENCH_CLI_CHILD !== '1') {
    const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), entry], {
      env: { ...process.env, BENCH_CLI_CHILD: '1' },
      stdio: ['ignore', 2, 2, 'pipe'],
    });
    const figures = child.stdio[3] as NodeJS.ReadableStream;
    figures.pipe(process.stdout);
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    process.once('SIGINT', forward('SIGINT'));
    process.once('SIGTERM', forward('SIGTERM'));
    child.once('exit', (code, signal) => {
      figures.once('end', () => process.exit(code ?? (signal ? 1 : 0)));
      figures.resume();
    });
    return;
  }
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const out = createWriteStream('', { fd: 3 });
  const finish = async (code: number) => {
    await stopServices().catch(() => undefined);
    await new Promise<void>((resolve) => out.end(resolve));
    process.exit(code);
  };
  work(out).then(
    () => finish(0),
    (err: Error) => {
      process.stderr.write(`failed: ${err.stack ?? err.message}\n`);
      return finish(1);
    },
  );
}
