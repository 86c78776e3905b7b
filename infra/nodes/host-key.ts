import { createHash } from 'node:crypto';

/** OpenSSH-style fingerprint of a raw public key blob: "SHA256:<base64 without padding>". */
export function sshFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export interface HostKeyPins {
  blobs: Buffer[];
  fingerprints: string[];
  /** Key types of the pinned blobs; used to make the server present that key type. */
  types: string[];
}

const KEY_TYPE_RE = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-[\w@.-]+)$/;
const FINGERPRINT_RE = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

/**
 * Accepts, one per line: an OpenSSH public key ("ssh-ed25519 AAAA... [comment]"), a known_hosts line
 * ("host ssh-ed25519 AAAA..."), or a fingerprint ("SHA256:..."). Anything else is a config error.
 */
export function parseHostKeyPins(text: string): HostKeyPins {
  const pins: HostKeyPins = { blobs: [], fingerprints: [], types: [] };
  for (const line of text.split(/\r?\n/).map((l) => l.trim())) {
    if (!line || line.startsWith('#')) continue;
    const tokens = line.split(/\s+/);
    const fp = tokens.find((t) => FINGERPRINT_RE.test(t));
    if (fp) {
      pins.fingerprints.push(fp.replace(/=$/, ''));
      continue;
    }
    const i = tokens.findIndex((t) => KEY_TYPE_RE.test(t));
    const blob = i >= 0 && tokens[i + 1] ? Buffer.from(tokens[i + 1], 'base64') : undefined;
    if (!blob || embeddedType(blob) !== tokens[i]) {
      throw new Error(
        `host_key: cannot parse "${line.slice(0, 40)}..." (want "ssh-ed25519 AAAA..." or SHA256:...)`,
      );
    }
    pins.blobs.push(blob);
    pins.types.push(tokens[i]);
  }
  if (pins.blobs.length === 0 && pins.fingerprints.length === 0) throw new Error('host_key is empty');
  return pins;
}

/** An SSH key blob starts with its own type name as a length-prefixed string. */
function embeddedType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  return len > 0 && len < 64 && blob.length >= 4 + len
    ? blob.subarray(4, 4 + len).toString('latin1')
    : undefined;
}

export function hostKeyMatches(pins: HostKeyPins, presented: Buffer): boolean {
  if (pins.blobs.some((b) => b.equals(presented))) return true;
  return pins.fingerprints.includes(sshFingerprint(presented));
}

/**
 * Host key algorithms to offer. If only full keys are pinned, ask for exactly their types, so a server
 * with several host keys presents the pinned one; with a bare fingerprint, we cannot know the type.
 */
export function serverHostKeyAlgorithms(pins: HostKeyPins): string[] | undefined {
  if (pins.fingerprints.length > 0) return undefined;
  const algs = new Set<string>();
  for (const type of pins.types) {
    if (type === 'ssh-rsa') for (const a of ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']) algs.add(a);
    else algs.add(type);
  }
  return [...algs];
}
