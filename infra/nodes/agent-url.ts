import { isIP } from 'node:net';

/** 127.0.0.0/8, ::1 and localhost: the only hosts an agent may be reached over plain http. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return /^::ffff:127\./.test(h);
}

/**
 * Why an agent_url may not be used, or null. The orchestrator sends its bearer token there, so only
 * https (plain http to loopback alone), no credentials, query or fragment that could smuggle anything.
 */
export function agentUrlProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be a URL such as https://node.example.com:8444';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an https:// URL';
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname))
    return 'must use https (plain http only for an agent on loopback)';
  if (url.username || url.password) return 'must not contain credentials';
  if (url.search || url.hash) return 'must not have a query or fragment';
  return null;
}

/** "AB:CD:…" (32 bytes, upper case, the way Node and `openssl x509 -fingerprint -sha256` print it). */
export function normalizeCertFingerprint(text: string): string | null {
  const hex = text
    .trim()
    .replace(/^sha256\s*(fingerprint)?\s*=\s*/i, '')
    .replace(/:/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return null;
  return hex.match(/../g)!.join(':');
}
