import { z } from 'zod';
import { normalizeCertFingerprint } from '../infra/nodes/agent-url';
import { mapNodeSecrets, type NodeSecrets } from '../infra/nodes/secrets';
import { iso, type Row } from './db';

const sshInput = z.object({
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65535).default(22),
  username: z.string().min(1).max(64),
  private_key: z.string().min(1).max(16_384),
  host_key: z
    .string()
    .min(1)
    .max(4096)
    .describe('the node\'s SSH host key, pinned (e.g. "ssh-ed25519 AAAA...")'),
});
const realityInput = z.object({
  public_key: z.string().min(1).max(128),
  short_id: z.string().regex(/^([0-9a-f]{2}){0,8}$/, 'must be hex of even length, at most 16 characters'),
  server_name: z.string().min(1).max(255),
});

export const nodeFields = z.object({
  name: z.string().regex(/^[\w.-]{1,64}$/, 'must be letters, digits, ".", "-" or "_" (≤ 64)'),
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65535),
  location: z.string().min(1).max(64),
  country_code: z.string().regex(/^[A-Z]{2}$/, 'must be a 2-letter ISO country code such as NL'),
  capacity: z.number().int().min(0).max(1_000_000),
  driver: z.enum(['agent', 'ssh']),
  agent_url: z
    .string()
    .url()
    .max(255)
    .nullable()
    .optional()
    .describe('https://host:port of the node agent; plain http only for a loopback agent (else 422)'),
  agent_token: z.string().min(16, 'must be at least 16 characters').max(255).nullable().optional(),
  agent_cert_sha256: z
    .string()
    .max(128)
    .nullable()
    .optional()
    .describe(
      "SHA-256 fingerprint of the agent's TLS certificate as install-node.sh prints it (AB:CD:…); pinned",
    ),
  ssh: sshInput.nullable().optional(),
  reality: realityInput,
});
export const nodePatch = nodeFields
  .extend({ reality: realityInput.partial(), status: z.enum(['up', 'down', 'disabled']) })
  .partial();
export type NodeInput = z.infer<typeof nodePatch>;

/** A node as the operator sees it: secrets (agent token, SSH private key) never leave the database. */
export const nodeView = z.object({
  id: z.string().uuid(),
  name: z.string(),
  host: z.string(),
  port: z.number().int(),
  location: z.string(),
  country_code: z.string(),
  capacity: z.number().int(),
  driver: z.enum(['agent', 'ssh']),
  agent_url: z.string().nullable(),
  agent_cert_sha256: z.string().nullable(),
  has_agent_token: z.boolean(),
  ssh: z
    .object({ host: z.string(), port: z.number().int(), username: z.string(), host_key: z.string() })
    .nullable(),
  reality: z.object({ public_key: z.string(), short_id: z.string(), server_name: z.string() }),
  status: z.enum(['up', 'down', 'disabled']),
  client_count: z.number().int(),
  active_subscriptions: z.number().int(),
  last_health_check: z.string().nullable(),
  last_error: z.string().nullable(),
  created_at: z.string(),
});

export function toNodeView(r: Row): z.infer<typeof nodeView> {
  const ssh = r.ssh as { host: string; port: number; username: string; host_key: string } | null;
  return {
    id: r.id,
    name: r.name,
    host: r.host,
    port: Number(r.port),
    location: r.location,
    country_code: r.country_code,
    capacity: Number(r.capacity),
    driver: r.driver,
    agent_url: r.agent_url ?? null,
    agent_cert_sha256: r.agent_cert_sha256 ?? null,
    has_agent_token: Boolean(r.agent_token),
    ssh: ssh
      ? { host: ssh.host, port: Number(ssh.port), username: ssh.username, host_key: ssh.host_key }
      : null,
    reality: {
      public_key: r.reality_public_key,
      short_id: r.reality_short_id,
      server_name: r.reality_server_name,
    },
    status: r.status,
    client_count: Number(r.client_count),
    active_subscriptions: Number(r.active_subscriptions ?? 0),
    last_health_check: iso(r.last_health_check),
    last_error: r.last_error ?? null,
    created_at: iso(r.created_at) ?? '',
  };
}

/** Body fields → vpn_nodes columns, for the fields present; secrets sealed with NODE_SECRETS_KEY. */
export function nodeColumns(b: NodeInput, secrets: NodeSecrets): Record<string, unknown> {
  const sealed = mapNodeSecrets({ agent_token: b.agent_token, ssh: b.ssh }, (v, field) =>
    secrets.seal(v, field),
  );
  // An empty pin means no pin (null), like leaving it out.
  const fingerprint = b.agent_cert_sha256
    ? normalizeCertFingerprint(b.agent_cert_sha256)
    : b.agent_cert_sha256 === ''
      ? null
      : b.agent_cert_sha256;
  const map: Record<string, unknown> = {
    name: b.name,
    host: b.host,
    port: b.port,
    location: b.location,
    country_code: b.country_code,
    capacity: b.capacity,
    driver: b.driver,
    agent_url: b.agent_url,
    agent_token: sealed.agent_token,
    agent_cert_sha256: fingerprint,
    ssh: sealed.ssh === undefined ? undefined : sealed.ssh === null ? null : JSON.stringify(sealed.ssh),
    reality_public_key: b.reality?.public_key,
    reality_short_id: b.reality?.short_id,
    reality_server_name: b.reality?.server_name,
    status: b.status,
  };
  return Object.fromEntries(Object.entries(map).filter(([, v]) => v !== undefined));
}
