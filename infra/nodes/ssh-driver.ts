import { Client, type ConnectConfig } from 'ssh2';
import {
  HostKeyMismatchError,
  type NodeCounters,
  type NodeDriver,
  NodeRejectedError,
  NodeUnreachableError,
} from './driver';
import { hostKeyMatches, parseHostKeyPins, serverHostKeyAlgorithms, sshFingerprint } from './host-key';

export interface SshNodeConfig {
  host: string;
  port?: number;
  username: string;
  /** OpenSSH/PEM private key text. */
  private_key: string;
  passphrase?: string;
  /** Pinned server key: "ssh-ed25519 AAAA..." line(s) and/or "SHA256:..." fingerprint(s). Required. */
  host_key: string;
  /** Remote command prefix that runs the agent CLI; default "vpn-agent". */
  command?: string;
}

export interface SshDriverOptions {
  nodeId?: string;
  ssh: SshNodeConfig;
  timeoutMs?: number;
}

interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The channel could not be opened: the remote command did not run. */
class ExecNotStarted extends NodeUnreachableError {}

/** Single-quote for the remote POSIX shell. */
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * NodeDriver that runs the agent CLI over SSH (for nodes without the HTTP agent exposed). One SSH
 * connection is reused across calls and re-established after a drop. The host key is always pinned.
 */
export class SshDriver implements NodeDriver {
  private conn?: Promise<Client>;
  private readonly pins;
  private readonly prefix: string;

  constructor(private readonly o: SshDriverOptions) {
    this.pins = parseHostKeyPins(o.ssh.host_key ?? '');
    this.prefix = o.ssh.command?.trim() || 'vpn-agent';
  }

  private connect(): Promise<Client> {
    if (this.conn) return this.conn;
    const attempt = new Promise<Client>((resolve, reject) => {
      const client = new Client();
      let presented: Buffer | undefined;
      let mismatch = false;
      const algorithms = serverHostKeyAlgorithms(this.pins);
      const config: ConnectConfig = {
        host: this.o.ssh.host,
        port: this.o.ssh.port ?? 22,
        username: this.o.ssh.username,
        privateKey: this.o.ssh.private_key,
        passphrase: this.o.ssh.passphrase,
        readyTimeout: this.o.timeoutMs ?? 15_000,
        keepaliveInterval: 15_000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          presented = key;
          mismatch = !hostKeyMatches(this.pins, key);
          return !mismatch;
        },
        ...(algorithms ? { algorithms: { serverHostKey: algorithms as never } } : {}),
      };
      const forget = () => {
        if (this.conn === attempt) this.conn = undefined;
      };
      client.once('ready', () => resolve(client));
      client.on('error', (e: Error & { level?: string }) => {
        forget();
        if (mismatch && presented) reject(new HostKeyMismatchError(this.o.nodeId, sshFingerprint(presented)));
        else if (e.level === 'client-authentication') {
          reject(
            new NodeRejectedError(`ssh authentication failed: ${e.message}`, this.o.nodeId, undefined, {
              reason: 'ssh authentication failed',
            }),
          );
        } else
          reject(
            new NodeUnreachableError(`ssh ${this.o.ssh.host}: ${e.message}`, this.o.nodeId, {
              cause: e,
              reason: `ssh ${(e as { code?: string }).code ?? 'connection failed'}`,
            }),
          );
      });
      client.on('close', () => {
        forget();
        reject(
          new NodeUnreachableError(`ssh ${this.o.ssh.host}: connection closed`, this.o.nodeId, {
            reason: 'ssh connection closed',
          }),
        );
      });
      client.connect(config);
    });
    this.conn = attempt;
    return attempt;
  }

  /** Runs `<prefix> <args...>` and returns its JSON stdout; maps CLI exit codes to driver errors. */
  private async run<T>(args: string[]): Promise<T> {
    const command = [this.prefix, ...args.map(shq)].join(' ');
    let result: ExecResult;
    try {
      result = await this.exec(await this.connect(), command, args[0]);
    } catch (e) {
      // A reused connection may have died silently; the command never started, so one retry is safe.
      if (!(e instanceof ExecNotStarted)) throw e;
      this.conn = undefined;
      result = await this.exec(await this.connect(), command, args[0]);
    }
    const { code, stdout, stderr } = result;
    const line = stdout.trim().split('\n').pop() ?? '';
    const detail = `${args[0]} exited ${code}: ${(line || stderr).trim().slice(0, 300)}`;
    // 2 = bad input, 126/127 = command missing or not executable: permanent. 3 = Xray down: retry.
    // The reason (for last_error) is the exit code only: the remote output stays in the message.
    const reason = `ssh ${args[0]} exited ${code}`;
    if (code === 2 || code === 126 || code === 127)
      throw new NodeRejectedError(detail, this.o.nodeId, undefined, { reason });
    if (code !== 0) throw new NodeUnreachableError(detail, this.o.nodeId, { reason });
    try {
      return JSON.parse(line) as T;
    } catch {
      throw new NodeRejectedError(
        `${args[0]}: agent CLI printed no JSON: ${line.slice(0, 200)}`,
        this.o.nodeId,
        undefined,
        { reason: `ssh ${args[0]}: no JSON answer` },
      );
    }
  }

  private exec(client: Client, command: string, what: string): Promise<ExecResult> {
    return new Promise<ExecResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new NodeUnreachableError(`ssh command timed out: ${what}`, this.o.nodeId, { reason: 'timeout' }),
        );
        client.end(); // the channel may be wedged; start afresh next time
      }, this.o.timeoutMs ?? 30_000);
      client.exec(command, (err, stream) => {
        if (err) {
          clearTimeout(timer);
          return reject(new ExecNotStarted(`ssh exec: ${err.message}`, this.o.nodeId, { cause: err }));
        }
        let out = '';
        let errOut = '';
        stream.on('data', (d: Buffer) => {
          out += d.toString('utf8');
        });
        stream.stderr.on('data', (d: Buffer) => {
          errOut += d.toString('utf8');
        });
        stream.on('close', (exitCode: number | null) => {
          clearTimeout(timer);
          resolve({ code: exitCode, stdout: out, stderr: errOut });
        });
      });
    });
  }

  async addClient(c: { email: string; uuid: string; flow?: string }): Promise<void> {
    await this.run(['add', c.email, c.uuid, ...(c.flow === undefined ? [] : [c.flow])]);
  }

  async removeClient(email: string): Promise<void> {
    await this.run(['remove', email]);
  }

  async listClients(): Promise<{ email: string; uuid: string }[]> {
    const r = await this.run<{ clients: { email: string; uuid: string }[] }>(['list']);
    return r.clients.map(({ email, uuid }) => ({ email, uuid }));
  }

  async stats(reset = false): Promise<{ email: string; uplink: number; downlink: number }[]> {
    return (
      await this.run<{ stats: { email: string; uplink: number; downlink: number }[] }>(
        reset ? ['stats', '--reset'] : ['stats'],
      )
    ).stats;
  }

  async counters(): Promise<NodeCounters> {
    const r = await this.run<{ epoch?: string; stats: NodeCounters['stats'] }>(['stats']);
    return { epoch: r.epoch ?? '', stats: r.stats };
  }

  async health(): Promise<{ ok: boolean; xrayVersion?: string; users: number }> {
    const r = await this.run<{ xray_reachable: boolean; xray_version: string | null; users: number }>([
      'health',
    ]);
    return { ok: r.xray_reachable === true, xrayVersion: r.xray_version ?? undefined, users: r.users };
  }

  async close(): Promise<void> {
    const pending = this.conn;
    this.conn = undefined;
    const client = await pending?.catch(() => undefined);
    client?.end();
  }
}
