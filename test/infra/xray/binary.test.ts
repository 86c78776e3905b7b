import assert from 'node:assert/strict';
import { accessSync, chmodSync, constants, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ensureXrayBinary,
  generateRealityKeys,
  newShortId,
  parseX25519Output,
  xrayVersion,
} from '../../../infra/xray/binary';

describe('Xray binary and keys', function () {
  this.timeout(20 * 60_000); // a cold machine builds Xray with Go once; normally CI did it in install

  it('finds (or builds and caches) a runnable Xray', async () => {
    const bin = await ensureXrayBinary();
    accessSync(bin, constants.X_OK);
    assert.match(await xrayVersion(bin), /^\d+\.\d+\.\d+$/);
    assert.equal(await ensureXrayBinary(), bin);
  });

  it('prefers XRAY_BIN, else copies the Go build into the cache as "xray"', async () => {
    const real = await ensureXrayBinary();
    const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'vpn-xray-cache-'));
    const saved = { bin: process.env.XRAY_BIN, cache: process.env.XRAY_CACHE_DIR };
    try {
      process.env.XRAY_BIN = real;
      assert.equal(await ensureXrayBinary(), real);
      delete process.env.XRAY_BIN;
      process.env.XRAY_CACHE_DIR = cacheDir;
      mkdirSync(path.join(cacheDir, 'gobin'));
      copyFileSync(real, path.join(cacheDir, 'gobin', 'main'));
      chmodSync(path.join(cacheDir, 'gobin', 'main'), 0o755);
      const cached = await ensureXrayBinary();
      assert.equal(cached, path.join(cacheDir, 'xray'));
      assert.match(await xrayVersion(cached), /^\d+\.\d+\.\d+$/);
    } finally {
      restore('XRAY_BIN', saved.bin);
      restore('XRAY_CACHE_DIR', saved.cache);
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('parses both labels of `xray x25519` output', () => {
    const newer = 'PrivateKey: aaa\nPassword (PublicKey): bbb\nHash32: ccc\n';
    const newer2 = 'PrivateKey: aaa\nPassword: bbb\nHash32: ccc\n';
    const older = 'Private key: aaa\nPublic key: bbb\n';
    for (const text of [newer, newer2, older]) {
      assert.deepEqual(parseX25519Output(text), { privateKey: 'aaa', publicKey: 'bbb' });
    }
    assert.throws(() => parseX25519Output('nothing'), /cannot parse/);
  });

  it('generates a Reality key pair with the real binary', async () => {
    const keys = await generateRealityKeys(await ensureXrayBinary());
    assert.match(keys.privateKey, /^[A-Za-z0-9_-]{43}$/);
    assert.match(keys.publicKey, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(keys.privateKey, keys.publicKey);
    assert.match(newShortId(), /^[0-9a-f]{16}$/);
  });
});

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
