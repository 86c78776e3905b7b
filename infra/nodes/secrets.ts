import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Node secrets (agent tokens, SSH private keys) encrypted at rest: AES-256-GCM with a key from
 * NODE_SECRETS_KEY. A stored value reads `enc:v1:<key id>:<base64url(iv | tag | ciphertext)>`; the key id
 * lets NODE_SECRETS_KEY_OLD keep decrypting during a rotation until `reencryptNodeSecrets` has rewritten
 * every row with the new key. Values without the prefix are legacy plaintext: still readable, and
 * encrypted by the same re-encryption step (run by `npm run migrate`).
 */
const PREFIX = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Which field a ciphertext belongs to (authenticated), so a token cannot be swapped in as an SSH key. */
export type SecretField = 'agent_token' | 'ssh.private_key' | 'ssh.passphrase';

export class NodeSecretsError extends Error {
  override name = 'NodeSecretsError';
}

/** 32 bytes as 64 hex digits or base64 (with or without padding); undefined when it is neither. */
export function parseSecretsKey(text: string): Buffer | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) {
    const key = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return key.length === 32 ? key : undefined;
  }
  return undefined;
}

export const SECRETS_KEY_HINT = 'must be 32 bytes, as 64 hex digits or base64 (openssl rand -base64 32)';

const keyId = (key: Buffer) =>
  createHash('sha256').update('vpn-node-secrets:').update(key).digest('hex').slice(0, 8);

export class NodeSecrets {
  private readonly keys = new Map<string, Buffer>();
  private readonly currentId?: string;

  /** `current` encrypts and decrypts; `old` keys only decrypt (rotation). No current key = plaintext. */
  constructor(current?: Buffer, old: Buffer[] = []) {
    for (const k of old) this.keys.set(keyId(k), k);
    if (current) {
      this.currentId = keyId(current);
      this.keys.set(this.currentId, current);
    }
  }

  get encrypting(): boolean {
    return this.currentId !== undefined;
  }

  static isEncrypted(stored: string): boolean {
    return stored.startsWith(PREFIX);
  }

  seal(plain: string, field: SecretField): string {
    if (!this.currentId) return plain;
    const key = this.keys.get(this.currentId)!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(field));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const packed = Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    return `${PREFIX}${this.currentId}:${packed}`;
  }

  open(stored: string, field: SecretField): string {
    if (!NodeSecrets.isEncrypted(stored)) return stored; // legacy plaintext row
    const [kid, packed] = stored.slice(PREFIX.length).split(':');
    const key = this.keys.get(kid);
    if (!key) {
      throw new NodeSecretsError(
        `node secret encrypted with key ${kid}, which is neither NODE_SECRETS_KEY nor NODE_SECRETS_KEY_OLD`,
      );
    }
    const raw = Buffer.from(packed ?? '', 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(field));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new NodeSecretsError(`node secret (${field}) does not decrypt: damaged or not for this field`);
    }
  }

  /** Already in the form `seal` would produce now (so re-encryption can skip it). */
  isCurrent(stored: string): boolean {
    if (!this.currentId) return !NodeSecrets.isEncrypted(stored);
    return stored.startsWith(`${PREFIX}${this.currentId}:`);
  }
}

/** From NODE_SECRETS_KEY / NODE_SECRETS_KEY_OLD (comma-separated); invalid keys are a config error. */
export function nodeSecretsFromEnv(env: {
  NODE_SECRETS_KEY?: string;
  NODE_SECRETS_KEY_OLD?: string;
}): NodeSecrets {
  const parse = (name: string, text: string) => {
    const key = parseSecretsKey(text);
    if (!key) throw new NodeSecretsError(`config error: ${name} ${SECRETS_KEY_HINT}`);
    return key;
  };
  const current = env.NODE_SECRETS_KEY ? parse('NODE_SECRETS_KEY', env.NODE_SECRETS_KEY) : undefined;
  const old = (env.NODE_SECRETS_KEY_OLD ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => parse('NODE_SECRETS_KEY_OLD', s));
  return new NodeSecrets(current, old);
}

/** The secret-bearing columns of a vpn_nodes row, as stored. */
export interface StoredNodeSecrets {
  agent_token?: string | null;
  ssh?: Record<string, unknown> | null;
}

/** Applies `f` to each secret in the row (agent_token, ssh.private_key, ssh.passphrase). */
export function mapNodeSecrets<T extends StoredNodeSecrets>(
  row: T,
  f: (value: string, field: SecretField) => string,
): T {
  const out = { ...row };
  if (typeof row.agent_token === 'string' && row.agent_token)
    out.agent_token = f(row.agent_token, 'agent_token');
  if (row.ssh && typeof row.ssh === 'object') {
    const ssh = { ...row.ssh };
    if (typeof ssh.private_key === 'string' && ssh.private_key)
      ssh.private_key = f(ssh.private_key, 'ssh.private_key');
    if (typeof ssh.passphrase === 'string' && ssh.passphrase)
      ssh.passphrase = f(ssh.passphrase, 'ssh.passphrase');
    out.ssh = ssh;
  }
  return out;
}
