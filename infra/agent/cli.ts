// Agent CLI for the SSH driver: same store, same local Xray API as the HTTP agent, JSON on stdout.
//   tsx infra/agent/cli.ts add <email> <uuid> [flow] | remove <email> | list | stats [--reset] | health
// Exit codes: 0 ok, 2 bad usage or input (permanent), 3 Xray unavailable (retry), 1 anything else.
import { loadOrExit, parseAgentCliConfig } from './config';
import { AgentService, clientBodySchema, emailSchema } from './service';
import { AgentStore } from './store';
import { XrayApi, XrayError } from './xray-api';

const USAGE = 'usage: add <email> <uuid> [flow] | remove <email> | list | stats [--reset] | health';

class UsageError extends Error {}

function email(value: string | undefined): string {
  const r = emailSchema.safeParse(value ?? '');
  if (!r.success) throw new UsageError(r.error.issues[0].message);
  return r.data;
}

async function run(service: AgentService, args: string[]): Promise<{ out: unknown; code: number }> {
  const [command, ...rest] = args;
  switch (command) {
    case 'add': {
      const target = email(rest[0]);
      const body = clientBodySchema.safeParse({ uuid: rest[1], flow: rest[2] });
      if (!body.success) throw new UsageError(body.error.issues[0].message);
      const r = await service.addClient(target, body.data);
      return { out: { email: target, uuid: body.data.uuid, flow: body.data.flow, ...r }, code: 0 };
    }
    case 'remove': {
      const target = email(rest[0]);
      return { out: { email: target, ...(await service.removeClient(target)) }, code: 0 };
    }
    case 'list':
      return { out: { clients: await service.listClients() }, code: 0 };
    case 'stats': {
      const reset = rest.includes('--reset');
      const { epoch, stats } = await service.counters(reset);
      return { out: { stats, reset, epoch }, code: 0 };
    }
    case 'health': {
      const h = await service.health();
      const out = {
        status: h.ok ? 'ok' : 'xray_unavailable',
        xray_reachable: h.ok,
        xray_version: h.xrayVersion ?? null,
        users: h.users,
        xray_users: h.xrayUsers ?? null,
        ...(h.error ? { error: h.error } : {}),
      };
      return { out, code: 0 }; // health answers even when Xray is down; the body says so
    }
    default:
      throw new UsageError(USAGE);
  }
}

async function main(): Promise<void> {
  const config = loadOrExit(parseAgentCliConfig);
  const xray = new XrayApi(config.xrayApi);
  const service = new AgentService({
    store: new AgentStore(config.dataDir),
    xray,
    inboundTag: config.inboundTag,
    xrayBin: config.xrayBin,
  });
  let code: number;
  try {
    const result = await run(service, process.argv.slice(2));
    process.stdout.write(`${JSON.stringify(result.out)}\n`);
    code = result.code;
  } catch (e) {
    const err = e as Error;
    const [kind, c] =
      e instanceof UsageError
        ? ['bad_request', 2]
        : e instanceof XrayError && e.unavailable
          ? ['xray_unavailable', 3]
          : ['internal', 1];
    process.stdout.write(`${JSON.stringify({ error: kind, message: err.message })}\n`);
    code = c as number;
  }
  xray.close();
  process.exitCode = code;
}

void main();
