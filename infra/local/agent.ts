import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Reconciler } from '../agent/reconciler';
import { createAgentApp } from '../agent/server';
import { AgentService } from '../agent/service';
import { AgentStore } from '../agent/store';
import { XrayApi } from '../agent/xray-api';
import { freePort, killProcess, type Started, startProcess } from './processes';
import type { XrayServer } from './xray';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
/**
 * `node -r tsx/cjs file.ts`: one process (the tsx CLI would add a wrapper process that a SIGKILL
 * leaves orphaned), so killing what we started really stops the agent.
 */
export const TS_NODE_ARGS = ['--require', require.resolve('tsx/cjs')];

export interface RunningAgent {
  url: string;
  token: string;
  dataDir: string;
  /** fetch against the agent with the bearer token. */
  // biome-ignore lint/suspicious/noExplicitAny: tests assert on the JSON body field by field
  call(method: string, p: string, body?: unknown, token?: string): Promise<{ status: number; json: any }>;
  stop(): Promise<void>;
}

export function newDataDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'vpn-agent-data-'));
}

function caller(url: string, token: string): RunningAgent['call'] {
  return async (method, p, body, overrideToken) => {
    const res = await fetch(`${url}${p}`, {
      method,
      headers: {
        authorization: `Bearer ${overrideToken ?? token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
}

/** The agent in-process (app + reconciler), against a real Xray; reconciles every 300 ms. */
export async function startAgent(xray: XrayServer, dataDir = newDataDir()): Promise<RunningAgent> {
  const token = randomBytes(24).toString('hex');
  const store = new AgentStore(dataDir);
  const api = new XrayApi(xray.apiAddress);
  const deps = { store, xray: api, inboundTag: xray.inboundTag, xrayBin: xray.bin };
  const reconciler = new Reconciler(new AgentService(deps), { intervalMs: 300 });
  const server = http.createServer(createAgentApp({ ...deps, token }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  reconciler.start();
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    token,
    dataDir,
    call: caller(url, token),
    stop: async () => {
      await reconciler.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      api.close();
    },
  };
}

/** The real `npm run agent` entry (infra/agent/main.ts) as a child process. */
export async function spawnAgent(xray: XrayServer, dataDir: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const token = randomBytes(24).toString('hex');
  const port = await freePort();
  const env = {
    ...process.env,
    AGENT_PORT: String(port),
    AGENT_HOST: '127.0.0.1',
    AGENT_TOKEN: token,
    AGENT_DATA_DIR: dataDir,
    XRAY_BIN: xray.bin,
    XRAY_API: xray.apiAddress,
    XRAY_INBOUND_TAG: xray.inboundTag,
    AGENT_RECONCILE_INTERVAL: '300ms',
    ...extraEnv,
  };
  const main = path.join(REPO_ROOT, 'infra', 'agent', 'main.ts');
  const proc: Started = startProcess(process.execPath, [...TS_NODE_ARGS, main], env);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start: ${proc.output()}`)), 20_000);
    const check = () => {
      if (proc.output().includes('"event":"listening"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.proc.stdout?.on('data', check);
    proc.proc.once('exit', (code) => reject(new Error(`agent exited ${code}: ${proc.output()}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return { url, token, dataDir, proc, call: caller(url, token), stop: () => killProcess(proc.proc) };
}
