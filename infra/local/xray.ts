import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureXrayBinary, generateRealityKeys, newShortId } from '../xray/binary';
import { buildVlessLink, parseVlessLink } from '../xray/link';
import { buildServerConfig } from '../xray/server-config';
import { freePort, killProcess, type Started, startProcess, waitForPort } from './processes';
import { TARGET_NAME } from './sites';

export { httpGetViaSocks, socksConnect } from './socks';
export { freePort, killAllStarted, killProcess, waitFor } from './processes';
export { type Closeable, makeSelfSignedCert, startHttpTarget, startTlsTarget } from './sites';

export interface XrayServer {
  bin: string;
  host: string;
  port: number;
  apiAddress: string;
  inboundTag: string;
  publicKey: string;
  shortId: string;
  serverName: string;
  configPath: string;
  /** A share link for a user of this server, exactly as the product issues it. */
  linkFor(uuid: string, remark?: string): string;
  /** Kill (SIGKILL, like a crash, by default) and start again with the same config and ports. */
  restart(signal?: NodeJS.Signals): Promise<void>;
  /** Kill without restarting (SIGKILL by default); `start()` brings it back on the same ports. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Xray server from infra/xray/server-config.ts on loopback free ports, Reality target = a local TLS site. */
export async function startXrayServer(opts: {
  targetPort: number;
  inboundTag?: string;
  /** Users baked into the config file (normally the agent adds them at runtime). */
  clients?: { email: string; uuid: string }[];
  /** Default true: the tests' web server is on 127.0.0.1, which production configs block. */
  allowPrivateDestinations?: boolean;
}): Promise<XrayServer> {
  const bin = await ensureXrayBinary();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vpn-xray-srv-'));
  const keys = await generateRealityKeys(bin);
  const shortId = newShortId();
  const inboundTag = opts.inboundTag ?? 'vless-reality';
  const configPath = path.join(dir, 'server.json');
  const writeConfig = (port: number, apiPort: number) => {
    const config = buildServerConfig({
      port,
      listen: '127.0.0.1',
      apiListen: `127.0.0.1:${apiPort}`,
      inboundTag,
      privateKey: keys.privateKey,
      shortIds: ['', shortId],
      serverNames: [TARGET_NAME],
      target: `127.0.0.1:${opts.targetPort}`,
      clients: opts.clients,
      allowPrivateDestinations: opts.allowPrivateDestinations ?? true,
    });
    writeFileSync(configPath, JSON.stringify(config, null, 2));
  };
  let port = 0;
  let apiPort = 0;
  let current: Started | undefined;
  const start = async () => {
    current = startProcess(bin, ['run', '-c', configPath]);
    await waitForPort(apiPort, '127.0.0.1', 10_000, current);
    await waitForPort(port, '127.0.0.1', 10_000, current);
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (current) await killProcess(current.proc, signal);
    current = undefined;
  };
  // A probed free port can be taken (an outgoing connection's ephemeral port) before Xray binds it: then
  // new ports, up to three tries. A restart later keeps the ports it started on.
  for (let attempt = 1; ; attempt++) {
    [port, apiPort] = [await freePort(), await freePort()];
    writeConfig(port, apiPort);
    try {
      await start();
      break;
    } catch (err) {
      await stop('SIGKILL');
      if (attempt >= 3 || !String(err).includes('address already in use')) throw err;
    }
  }
  return {
    bin,
    host: '127.0.0.1',
    port,
    apiAddress: `127.0.0.1:${apiPort}`,
    inboundTag,
    publicKey: keys.publicKey,
    shortId,
    serverName: TARGET_NAME,
    configPath,
    linkFor: (uuid, remark = 'test') =>
      buildVlessLink({
        uuid,
        host: '127.0.0.1',
        port,
        serverName: TARGET_NAME,
        publicKey: keys.publicKey,
        shortId,
        remark,
      }),
    restart: async (signal = 'SIGKILL') => {
      await stop(signal);
      await start();
    },
    kill: (signal = 'SIGKILL') => stop(signal),
    start,
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface XrayClient {
  socksPort: number;
  stop(): Promise<void>;
}

/** An Xray CLIENT configured ONLY from a vless:// link, with a local SOCKS5 inbound. */
export async function startXrayClient(link: string): Promise<XrayClient> {
  const bin = await ensureXrayBinary();
  const l = parseVlessLink(link);
  const socksPort = await freePort();
  const config = {
    log: { loglevel: 'warning' },
    inbounds: [
      { listen: '127.0.0.1', port: socksPort, protocol: 'socks', settings: { auth: 'noauth', udp: false } },
    ],
    outbounds: [
      {
        protocol: 'vless',
        settings: {
          vnext: [
            {
              address: l.host,
              port: l.port,
              users: [{ id: l.uuid, encryption: l.encryption, flow: l.flow }],
            },
          ],
        },
        streamSettings: {
          network: l.type === 'tcp' ? 'raw' : l.type,
          security: l.security,
          realitySettings: {
            serverName: l.serverName,
            fingerprint: l.fingerprint,
            publicKey: l.publicKey,
            shortId: l.shortId,
          },
        },
      },
    ],
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vpn-xray-cli-'));
  const configPath = path.join(dir, 'client.json');
  writeFileSync(configPath, JSON.stringify(config));
  const proc = startProcess(bin, ['run', '-c', configPath]);
  await waitForPort(socksPort, '127.0.0.1', 10_000, proc);
  return {
    socksPort,
    stop: async () => {
      await killProcess(proc.proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
