// The VPN node installer (infra/deploy/install-node.sh) and the backup scripts: shellcheck, the dry run
// (prints everything, changes nothing), the printed registration call against the API's own schema,
// and a staged install (--root) with a real Xray that must keep the node's identity across re-runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { X509Certificate } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { nodeFields } from '../../api/node-view';
import { parseAgentConfig } from '../../infra/agent/config';
import { XRAY_MODULE_VERSION, ensureXrayBinary } from '../../infra/xray/binary';
import { buildServerConfig } from '../../infra/xray/server-config';
import { ROOT } from './env-names';

const INSTALLER = path.join(ROOT, 'infra/deploy/install-node.sh');
const SAMPLE_ARGS = [
  '--host',
  '203.0.113.10',
  '--name',
  'nl-ams-1',
  '--location',
  'Côte d\'Ivoire "Abidjan"',
  '--country',
  'ci',
  '--capacity',
  '150',
  '--api-url',
  'https://vpn.example.com',
];
/** Everything a real install touches on the machine; a dry run must leave all of it as it was. */
const SYSTEM_PATHS = [
  '/etc/vpn-node',
  '/opt/vpn-agent',
  '/opt/vpn-node',
  '/usr/local/bin/xray',
  '/usr/local/etc/xray',
  '/usr/local/share/xray',
  '/etc/systemd/system/xray.service',
  '/etc/systemd/system/vpn-agent.service',
  '/var/lib/vpn-agent',
  '/run/vpn-node-install.lock',
];
/** Commands that change a machine; in a dry run none of them may even be called. */
const MUTATING = [
  'apt-get',
  'apt',
  'dpkg',
  'systemctl',
  'useradd',
  'groupadd',
  'usermod',
  'install',
  'chown',
  'chmod',
  'mkdir',
  'ln',
  'mv',
  'cp',
  'rm',
  'touch',
  'tee',
  'curl',
  'wget',
  'unzip',
  'npm',
  'go',
  'ufw',
  'openssl',
  'mktemp',
  'flock',
];

const temps: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
}
after(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function runInstaller(args: string[], extraEnv: Record<string, string> = {}): Run {
  const r = spawnSync('bash', [INSTALLER, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    // A clean environment: no AGENT_TOKEN, API_URL... leaking in from the test run.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), LANG: 'C.UTF-8', ...extraEnv },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function snapshot(paths: string[]): Record<string, string> {
  return Object.fromEntries(
    paths.map((p) => {
      if (!existsSync(p)) return [p, 'absent'];
      const st = statSync(p);
      return [p, `${st.mode}:${st.size}:${st.mtimeMs}`];
    }),
  );
}

/** Runs the printed registration block with curl replaced by a function that prints its arguments. */
function registrationCall(output: string, env: Record<string, string>): string[] {
  const block = /# --- BEGIN NODE REGISTRATION ---\n([\s\S]*?)\n# --- END NODE REGISTRATION ---/.exec(
    output,
  )?.[1];
  assert.ok(block, 'the registration block is printed');
  const r = spawnSync('bash', ['-c', `curl() { printf '%s\\0' "$@"; }\n${block}`], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\0').slice(0, -1);
}

const BODY_KEYS = [
  'agent_cert_sha256',
  'agent_token',
  'agent_url',
  'capacity',
  'country_code',
  'driver',
  'host',
  'location',
  'name',
  'port',
  'reality',
];

/** Checks the call is `curl -X POST <api>/api/v1/admin/nodes` with the admin bearer and a valid body. */
function checkRegistration(
  args: string[],
  apiUrl: string,
): Record<string, unknown> & { reality: Record<string, string> } {
  assert.deepEqual(args.slice(0, 3), ['-X', 'POST', `${apiUrl}/api/v1/admin/nodes`]);
  const headers = args.flatMap((a, i) => (args[i - 1] === '-H' ? [a] : []));
  assert.ok(headers.includes('Authorization: Bearer test-admin-token'), headers.join(' | '));
  assert.ok(headers.includes('Content-Type: application/json'));
  const data = args[args.indexOf('-d') + 1];
  const body = JSON.parse(data);
  assert.deepEqual(Object.keys(body).sort(), BODY_KEYS);
  assert.deepEqual(Object.keys(body.reality).sort(), ['public_key', 'server_name', 'short_id']);
  // The API's own request schema for POST /api/v1/admin/nodes.
  const parsed = nodeFields.strict().safeParse(body);
  assert.ok(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues));
  return body;
}

/** The file content a dry run prints for `write <target>`. */
function printedFile(output: string, target: string): string {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`[dry-run] write ${target} `));
  assert.ok(start >= 0, `the dry run shows ${target}`);
  const body: string[] = [];
  for (let i = start + 1; lines[i]?.startsWith('[dry-run]   |'); i++)
    body.push(lines[i].replace(/^\[dry-run\] {3}\| ?/, ''));
  return body.join('\n');
}

function readEnvFile(file: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z][A-Z0-9_]*=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe('deployment: shell scripts', () => {
  it('pass shellcheck -S style (infra/deploy/*.sh, scripts/*.sh)', () => {
    const files = ['infra/deploy', 'scripts'].flatMap((dir) =>
      readdirSync(path.join(ROOT, dir))
        .filter((f) => f.endsWith('.sh'))
        .map((f) => `${dir}/${f}`),
    );
    assert.ok(
      files.includes('infra/deploy/install-node.sh') && files.includes('scripts/backup.sh'),
      files.join(),
    );
    const r = spawnSync('shellcheck', ['-S', 'style', ...files], { cwd: ROOT, encoding: 'utf8' });
    assert.notEqual(
      r.error?.message.includes('ENOENT'),
      true,
      'shellcheck is not installed (apt-get install shellcheck)',
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});

describe('deployment: node installer, dry run', () => {
  let out: Run;
  let tmp: string;
  let initial: Record<string, string>;

  before(() => {
    tmp = tempDir('vpn-installer-dry-');
    const stubs = path.join(tmp, 'stubs');
    mkdirSync(stubs);
    for (const cmd of MUTATING) {
      writeFileSync(path.join(stubs, cmd), `#!/bin/sh\necho "${cmd} $*" >> "${tmp}/calls.log"\nexit 0\n`);
      chmodSync(path.join(stubs, cmd), 0o755);
    }
    mkdirSync(path.join(tmp, 'home'));
    initial = snapshot(SYSTEM_PATHS);
    out = runInstaller(['--dry-run', ...SAMPLE_ARGS], {
      PATH: `${stubs}:${process.env.PATH}`,
      HOME: path.join(tmp, 'home'),
      TMPDIR: path.join(tmp, 'home'),
    });
  });

  it('exits 0 and prints every step', () => {
    assert.equal(out.status, 0, out.stderr + out.stdout);
    for (const step of [
      'system packages',
      'service users',
      'Xray v',
      'Reality keys',
      'agent token',
      'Xray config',
      'Node.js 20',
      'agent code',
      'systemd units',
      'services',
    ]) {
      assert.match(out.stdout, new RegExp(`==> ${step}`), step);
    }
    assert.match(
      out.stdout,
      /\[dry-run\] download https:\/\/github\.com\/XTLS\/Xray-core\/releases\/download\/v[\d.]+\/Xray-linux-/,
    );
    assert.match(out.stdout, /\[dry-run\] \S*xray x25519/);
    assert.match(out.stdout, /\[dry-run\] openssl rand -hex 8/);
    assert.match(out.stdout, /\[dry-run\] systemctl enable xray\.service vpn-agent\.service/);
    assert.match(out.stdout, /\[dry-run\] write \/etc\/systemd\/system\/vpn-agent\.service/);
  });

  it('changes nothing: no mutating command is called, no system path is touched, nothing is written', () => {
    assert.equal(
      existsSync(path.join(tmp, 'calls.log')),
      false,
      existsSync(path.join(tmp, 'calls.log')) ? readFileSync(path.join(tmp, 'calls.log'), 'utf8') : '',
    );
    assert.deepEqual(snapshot(SYSTEM_PATHS), initial);
    assert.deepEqual(readdirSync(path.join(tmp, 'home')), [], 'nothing in HOME or TMPDIR');
  });

  it('prints a registration call with a body the admin nodes API accepts', () => {
    const body = checkRegistration(
      registrationCall(out.stdout, { ADMIN_TOKEN: 'test-admin-token' }),
      'https://vpn.example.com',
    );
    assert.equal(body.name, 'nl-ams-1');
    assert.equal(body.host, '203.0.113.10');
    assert.equal(body.port, 443);
    assert.equal(body.location, 'Côte d\'Ivoire "Abidjan"', 'quotes survive the shell and JSON');
    assert.equal(body.country_code, 'CI');
    assert.equal(body.capacity, 150);
    assert.equal(body.driver, 'agent');
    assert.equal(body.agent_url, 'https://203.0.113.10:8444', 'TLS by default');
    assert.match(
      String(body.agent_cert_sha256),
      /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/,
      'a pin of the right shape',
    );
    assert.equal(body.reality.server_name, 'www.microsoft.com');
  });

  it('uses $API_URL in the call when --api-url is not given', () => {
    const r = runInstaller(['--dry-run', ...SAMPLE_ARGS.slice(0, -2)]);
    assert.equal(r.status, 0, r.stderr);
    const args = registrationCall(r.stdout, { ADMIN_TOKEN: 'test-admin-token', API_URL: 'https://api.test' });
    checkRegistration(args, 'https://api.test');
  });

  it('would write the Xray config that infra/xray/server-config.ts builds, private key redacted', () => {
    const config = JSON.parse(printedFile(out.stdout, '/usr/local/etc/xray/config.json'));
    const expected = buildServerConfig({
      port: 443,
      privateKey: '<redacted>',
      shortIds: ['0000000000000000'],
      serverNames: ['www.microsoft.com'],
      target: 'www.microsoft.com:443',
    });
    assert.deepEqual(config, expected);
    assert.doesNotMatch(
      out.stdout,
      /DRY-RUN-REALITY-PRIVATE-KEY|DRY-RUN-AGENT-TOKEN-0000000000000000\n/,
      'secrets are masked in file contents',
    );
  });

  it('would give the agent the environment the contract names', () => {
    const env = printedFile(out.stdout, '/etc/vpn-node/agent.env');
    for (const line of [
      'AGENT_PORT=8444',
      'AGENT_TOKEN=<redacted>',
      'AGENT_DATA_DIR=/var/lib/vpn-agent',
      'XRAY_API=127.0.0.1:10085',
      'XRAY_INBOUND_TAG=vless-reality',
      'XRAY_BIN=/usr/local/bin/xray',
      'XRAY_CONFIG=/usr/local/etc/xray/config.json',
    ]) {
      assert.ok(env.split('\n').includes(line), line);
    }
  });

  it('builds Xray with go install of the module version infra/xray/binary.ts pins, when asked', () => {
    const r = runInstaller(['--dry-run', ...SAMPLE_ARGS, '--xray-method', 'go']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`go install github\\.com/xtls/xray-core/main@${XRAY_MODULE_VERSION.replace(/\./g, '\\.')}`),
    );
  });

  it('stages nothing under --root in a dry run', () => {
    const root = tempDir('vpn-installer-root-dry-');
    const r = runInstaller(['--dry-run', '--root', root, ...SAMPLE_ARGS]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(root), []);
  });

  it('refuses bad input with one clear line', () => {
    const cases: [string[], RegExp][] = [
      [['--dry-run', '--location', 'X', '--country', 'NL'], /--host is required/],
      [['--dry-run', '--host', 'h.example', '--country', 'NL'], /--location is required/],
      [['--dry-run', ...SAMPLE_ARGS, '--country', 'N1'], /--country must be a two-letter code/],
      [['--dry-run', ...SAMPLE_ARGS, '--port', '70000'], /--port must be 1-65535/],
      [['--dry-run', ...SAMPLE_ARGS, '--agent-token', 'short'], /at least 16 characters/],
      [['--dry-run', ...SAMPLE_ARGS, '--bogus'], /unknown option: --bogus/],
      [[...SAMPLE_ARGS, '--root', '/'], /--root must not be \//],
    ];
    for (const [args, message] of cases) {
      const r = runInstaller(args);
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  it('prints its usage', () => {
    const r = runInstaller(['--help']);
    assert.equal(r.status, 0);
    for (const opt of [
      '--host',
      '--sni',
      '--target',
      '--location',
      '--country',
      '--capacity',
      '--agent-token',
      '--agent-source',
      '--dry-run',
    ]) {
      assert.ok(r.stdout.includes(opt), opt);
    }
  });
});

describe('deployment: node installer, Reality key parsing', () => {
  // `xray x25519` labels changed over releases; the installer must read every style.
  const styles: Record<string, string> = {
    'older (Public key)':
      'Private key: PRIVATEoldAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nPublic key: PUBLIColdBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\n',
    'newer (Password (PublicKey))':
      'PrivateKey: PRIVATEnewAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nPassword (PublicKey): PUBLICnewBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\nHash32: x\n',
    'plain Password':
      'PrivateKey: PRIVATEpwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nPassword: PUBLICpwBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\n',
  };
  for (const [style, output] of Object.entries(styles)) {
    it(`reads the ${style} style`, () => {
      const dir = tempDir('vpn-installer-keys-');
      const fake = path.join(dir, 'xray');
      writeFileSync(
        fake,
        `#!/bin/sh\ncase "$1" in\n  version) echo "Xray 26.3.27 (Xray, Penetrates Everything.) Custom" ;;\n  x25519) printf '%s' '${output}' ;;\n  run) exit 0 ;;\nesac\n`,
      );
      chmodSync(fake, 0o755);
      const source = path.join(dir, 'src');
      mkdirSync(path.join(source, 'dist/infra/agent'), { recursive: true });
      writeFileSync(path.join(source, 'package.json'), '{}\n');
      writeFileSync(path.join(source, 'package-lock.json'), '{}\n');
      writeFileSync(path.join(source, 'dist/infra/agent/main.js'), '\n');
      const root = path.join(dir, 'root');
      const r = runInstaller(['--root', root, '--xray-bin', fake, '--agent-source', source, ...SAMPLE_ARGS]);
      assert.equal(r.status, 0, r.stderr + r.stdout);
      const keys = readEnvFile(path.join(root, 'etc/vpn-node/reality.env'));
      const [priv, pub] = [...output.matchAll(/: (\S+)/g)].map((m) => m[1]);
      assert.equal(keys.REALITY_PRIVATE_KEY, priv);
      assert.equal(keys.REALITY_PUBLIC_KEY, pub);
    });
  }
});

describe('deployment: node installer, staged install with a real Xray (--root)', function () {
  this.timeout(20 * 60_000); // the first run on a machine may build Xray with Go
  let xray: string;
  let source: string;

  before(async function () {
    try {
      xray = await ensureXrayBinary();
    } catch {
      this.skip(); // no Xray and no Go: the dry-run tests above still ran
    }
    source = tempDir('vpn-agent-src-');
    mkdirSync(path.join(source, 'dist/infra/agent'), { recursive: true });
    writeFileSync(path.join(source, 'package.json'), '{"name":"vpn-seller","version":"0.0.0"}\n');
    writeFileSync(path.join(source, 'package-lock.json'), '{"lockfileVersion":3,"packages":{}}\n');
    writeFileSync(path.join(source, 'dist/infra/agent/main.js'), '// fixture\n');
  });

  const stage = (root: string, extra: string[] = []) =>
    runInstaller(['--root', root, '--xray-bin', xray, '--agent-source', source, ...extra]);

  it('installs, generates the identity once, and keeps it (and restarts nothing) on a re-run', () => {
    const root = tempDir('vpn-installer-root-');
    const first = stage(root, SAMPLE_ARGS);
    assert.equal(first.status, 0, first.stderr + first.stdout);
    const at = (p: string) => path.join(root, p);

    const reality = readEnvFile(at('etc/vpn-node/reality.env'));
    const agentEnv = readEnvFile(at('etc/vpn-node/agent.env'));
    assert.equal(statSync(at('etc/vpn-node/reality.env')).mode & 0o777, 0o600);
    assert.equal(statSync(at('etc/vpn-node/agent.env')).mode & 0o777, 0o600);
    assert.equal(statSync(at('usr/local/etc/xray/config.json')).mode & 0o777, 0o640);
    assert.match(reality.REALITY_SHORT_ID, /^[0-9a-f]{16}$/);
    assert.match(agentEnv.AGENT_TOKEN, /^[0-9a-f]{64}$/);

    // The public key printed for the API belongs to the private key Xray serves with.
    const derived = spawnSync(xray, ['x25519', '-i', reality.REALITY_PRIVATE_KEY], {
      encoding: 'utf8',
    }).stdout;
    assert.ok(derived.includes(reality.REALITY_PUBLIC_KEY), derived);
    const config = JSON.parse(readFileSync(at('usr/local/etc/xray/config.json'), 'utf8'));
    assert.deepEqual(
      config,
      buildServerConfig({
        port: 443,
        privateKey: reality.REALITY_PRIVATE_KEY,
        shortIds: [reality.REALITY_SHORT_ID],
        serverNames: ['www.microsoft.com'],
        target: 'www.microsoft.com:443',
      }),
    );
    const test = spawnSync(xray, ['run', '-test', '-config', at('usr/local/etc/xray/config.json')], {
      encoding: 'utf8',
    });
    assert.equal(test.status, 0, test.stdout + test.stderr);

    const body = checkRegistration(
      registrationCall(first.stdout, { ADMIN_TOKEN: 'test-admin-token' }),
      'https://vpn.example.com',
    );
    assert.equal(body.agent_token, agentEnv.AGENT_TOKEN);
    assert.deepEqual(body.reality, {
      public_key: reality.REALITY_PUBLIC_KEY,
      short_id: reality.REALITY_SHORT_ID,
      server_name: 'www.microsoft.com',
    });

    // The agent accepts its environment (paths mapped into the staging root).
    const mapped = {
      ...agentEnv,
      XRAY_BIN: at(agentEnv.XRAY_BIN),
      XRAY_CONFIG: at(agentEnv.XRAY_CONFIG),
      AGENT_TLS_CERT: at(agentEnv.AGENT_TLS_CERT),
      AGENT_TLS_KEY: at(agentEnv.AGENT_TLS_KEY),
    };
    const agent = parseAgentConfig(mapped);
    assert.equal(agent.port, 8444);
    assert.equal(agent.inboundTag, 'vless-reality');
    assert.equal(agent.xrayApi, '127.0.0.1:10085');
    assert.equal(agent.dataDir, '/var/lib/vpn-agent');
    assert.equal(agent.spawnXray, false);
    assert.equal(agent.tlsCert, at('/etc/vpn-node/tls/agent.crt'), 'HTTPS by default');

    const unit = readFileSync(at('etc/systemd/system/vpn-agent.service'), 'utf8');
    assert.match(unit, /^EnvironmentFile=\/etc\/vpn-node\/agent\.env$/m);
    assert.match(unit, /^WorkingDirectory=\/opt\/vpn-agent\/current$/m);
    assert.match(unit, /^ExecStart=\S+\/node dist\/infra\/agent\/main\.js$/m);
    assert.match(unit, /^User=vpn-agent$/m);
    assert.match(unit, /^StateDirectory=vpn-agent$/m);
    const xrayUnit = readFileSync(at('etc/systemd/system/xray.service'), 'utf8');
    assert.match(
      xrayUnit,
      /^ExecStart=\/usr\/local\/bin\/xray run -config \/usr\/local\/etc\/xray\/config\.json$/m,
    );
    assert.match(xrayUnit, /^AmbientCapabilities=CAP_NET_BIND_SERVICE/m);
    assert.ok(
      existsSync(at('opt/vpn-agent/current/dist/infra/agent/main.js')) ||
        existsSync(at(`opt/vpn-agent/releases`)),
    );

    // Re-run without the identity options: same keys, same token, nothing rewritten, nothing restarted.
    const second = stage(root);
    assert.equal(second.status, 0, second.stderr + second.stdout);
    assert.deepEqual(readEnvFile(at('etc/vpn-node/reality.env')), reality);
    assert.deepEqual(readEnvFile(at('etc/vpn-node/agent.env')), agentEnv);
    for (const f of [
      '/usr/local/etc/xray/config.json',
      '/etc/vpn-node/agent.env',
      '/etc/systemd/system/xray.service',
      '/etc/systemd/system/vpn-agent.service',
    ]) {
      assert.ok(second.stdout.includes(`unchanged: ${f}`), f);
    }
    assert.match(second.stdout, /skipped: systemctl start xray\.service/);
    assert.match(second.stdout, /skipped: systemctl start vpn-agent\.service/);
    assert.doesNotMatch(second.stdout, /daemon-reload|restart/);
    const again = checkRegistration(
      registrationCall(second.stdout, {
        ADMIN_TOKEN: 'test-admin-token',
        API_URL: 'https://vpn.example.com',
      }),
      'https://vpn.example.com',
    );
    assert.deepEqual(again, body, 'the saved settings come back on a re-run');

    // Rotation is explicit: new Reality keys, the same token; Xray restarts.
    const third = stage(root, ['--rotate-keys']);
    assert.equal(third.status, 0, third.stderr);
    const rotated = readEnvFile(at('etc/vpn-node/reality.env'));
    assert.notEqual(rotated.REALITY_PRIVATE_KEY, reality.REALITY_PRIVATE_KEY);
    assert.notEqual(rotated.REALITY_PUBLIC_KEY, reality.REALITY_PUBLIC_KEY);
    assert.equal(readEnvFile(at('etc/vpn-node/agent.env')).AGENT_TOKEN, agentEnv.AGENT_TOKEN);
    assert.match(third.stdout, /skipped: systemctl restart xray\.service/);
  });

  it('serves the agent over HTTPS by default, with a self-signed certificate whose fingerprint it registers', () => {
    const root = tempDir('vpn-installer-tls-');
    const r = stage(root, SAMPLE_ARGS);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const agentEnv = readEnvFile(path.join(root, 'etc/vpn-node/agent.env'));
    assert.equal(agentEnv.AGENT_TLS_CERT, '/etc/vpn-node/tls/agent.crt');
    assert.equal(agentEnv.AGENT_TLS_KEY, '/etc/vpn-node/tls/agent.key');
    const cert = spawnSync(
      'openssl',
      ['x509', '-noout', '-ext', 'subjectAltName', '-in', path.join(root, 'etc/vpn-node/tls/agent.crt')],
      { encoding: 'utf8' },
    );
    assert.match(cert.stdout, /IP Address:203\.0\.113\.10/);
    const body = checkRegistration(
      registrationCall(r.stdout, { ADMIN_TOKEN: 'test-admin-token' }),
      'https://vpn.example.com',
    );
    assert.equal(body.agent_url, 'https://203.0.113.10:8444');
    // The printed pin is the certificate the agent will serve, as the agent driver computes it.
    const pem = readFileSync(path.join(root, 'etc/vpn-node/tls/agent.crt'), 'utf8');
    assert.equal(body.agent_cert_sha256, new X509Certificate(pem).fingerprint256);
    assert.match(r.stdout, new RegExp(`fingerprint \\(pinned by the API\\): ${body.agent_cert_sha256}`));
    assert.equal(readEnvFile(path.join(root, 'etc/vpn-node/agent.env')).AGENT_HOST, '0.0.0.0');
  });

  it('plain http only on request, bound to loopback, and refuses an http:// URL to another host', () => {
    const refused = runInstaller(['--dry-run', ...SAMPLE_ARGS, '--agent-plain-http']);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /--agent-url http:\/\/ works only on loopback/);
    const root = tempDir('vpn-installer-http-');
    const r = stage(root, [...SAMPLE_ARGS, '--agent-plain-http', '--agent-url', 'http://127.0.0.1:8444']);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const agentEnv = readEnvFile(path.join(root, 'etc/vpn-node/agent.env'));
    assert.equal(agentEnv.AGENT_HOST, '127.0.0.1');
    assert.equal(agentEnv.AGENT_TLS_CERT, undefined);
    const body = checkRegistration(
      registrationCall(r.stdout, { ADMIN_TOKEN: 'test-admin-token' }),
      'https://vpn.example.com',
    );
    assert.deepEqual([body.agent_url, body.agent_cert_sha256], ['http://127.0.0.1:8444', null]);
  });
});
