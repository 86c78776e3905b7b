import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { durationField } from '../config-fields';
import { DEFAULT_INBOUND_TAG, DEFAULT_XRAY_API } from '../xray/server-config';

export const DEFAULT_AGENT_PORT = 8444;

const existingFile = z.string().refine((p) => existsSync(p), 'file does not exist');
const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.\-_]+):\d{1,5}$/, 'must look like host:port');
const flag = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');
const duration = durationField;

// Shared by the HTTP agent and the CLI: both must find the same store and the same Xray.
const common = {
  AGENT_DATA_DIR: z.string().optional(),
  DATA_DIR: z.string().default('.data'),
  XRAY_BIN: existingFile.optional(),
  XRAY_API: hostPort.default(DEFAULT_XRAY_API),
  XRAY_INBOUND_TAG: z
    .string()
    .regex(/^[\w.-]+$/, 'must be an inbound tag')
    .default(DEFAULT_INBOUND_TAG),
};

const serverSchema = z.object({
  ...common,
  AGENT_PORT: z.coerce.number().int().min(0).max(65535).default(DEFAULT_AGENT_PORT),
  AGENT_HOST: z.string().min(1).default('0.0.0.0'),
  AGENT_TOKEN: z.string({ required_error: 'is required' }).min(16, 'must be at least 16 characters'),
  AGENT_TLS_CERT: existingFile.optional(),
  AGENT_TLS_KEY: existingFile.optional(),
  AGENT_SPAWN_XRAY: flag.default('0'),
  XRAY_CONFIG: existingFile.optional(),
  AGENT_RECONCILE_INTERVAL: duration.default('3s'),
});

const cliSchema = z.object(common);

export interface AgentCliConfig {
  dataDir: string;
  xrayBin?: string;
  xrayApi: string;
  inboundTag: string;
}

export interface AgentConfig extends AgentCliConfig {
  port: number;
  host: string;
  token: string;
  tlsCert?: string;
  tlsKey?: string;
  spawnXray: boolean;
  xrayConfig?: string;
  reconcileIntervalMs: number;
}

export class AgentConfigError extends Error {}

function parse<T extends z.ZodTypeAny>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  // Empty strings count as unset, the way .env files usually leave them.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    const issue = result.error.issues[0];
    const message =
      issue.code === 'invalid_type' && issue.received === 'undefined' ? 'is required' : issue.message;
    throw new AgentConfigError(`config error: ${issue.path.join('.')} ${message}`);
  }
  return result.data;
}

export function parseAgentCliConfig(env: NodeJS.ProcessEnv): AgentCliConfig {
  const c = parse(cliSchema, env);
  return {
    dataDir: path.resolve(c.AGENT_DATA_DIR ?? path.join(c.DATA_DIR, 'agent')),
    xrayBin: c.XRAY_BIN,
    xrayApi: c.XRAY_API,
    inboundTag: c.XRAY_INBOUND_TAG,
  };
}

export function parseAgentConfig(env: NodeJS.ProcessEnv): AgentConfig {
  const c = parse(serverSchema, env);
  if (!c.AGENT_TLS_CERT !== !c.AGENT_TLS_KEY) {
    throw new AgentConfigError('config error: AGENT_TLS_CERT and AGENT_TLS_KEY must be set together');
  }
  if (c.AGENT_SPAWN_XRAY && !c.XRAY_BIN) throw new AgentConfigError('config error: XRAY_BIN is required');
  if (c.AGENT_SPAWN_XRAY && !c.XRAY_CONFIG)
    throw new AgentConfigError('config error: XRAY_CONFIG is required');
  return {
    ...parseAgentCliConfig(env),
    port: c.AGENT_PORT,
    host: c.AGENT_HOST,
    token: c.AGENT_TOKEN,
    tlsCert: c.AGENT_TLS_CERT,
    tlsKey: c.AGENT_TLS_KEY,
    spawnXray: c.AGENT_SPAWN_XRAY,
    xrayConfig: c.XRAY_CONFIG,
    reconcileIntervalMs: c.AGENT_RECONCILE_INTERVAL,
  };
}

/** Parse or exit: one line on stderr naming the variable, exit code 1, never a stack trace. */
export function loadOrExit<T>(parseFn: (env: NodeJS.ProcessEnv) => T, env = process.env): T {
  try {
    return parseFn(env);
  } catch (e) {
    if (!(e instanceof AgentConfigError)) throw e;
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}
