import { z } from 'zod';
import { xrayVersion } from '../xray/binary';
import { VISION_FLOW } from '../xray/link';
import { type AgentState, type AgentStore, newEpoch, type Traffic } from './store';
import { type XrayApi, XrayError, type XrayUser } from './xray-api';

/** Emails become Xray stat names ("user>>>EMAIL>>>traffic>>>uplink"), so ">" and spaces are out. */
export const emailSchema = z
  .string()
  .regex(/^[A-Za-z0-9._@+-]{1,128}$/, 'email must be 1-128 chars of letters, digits and . _ @ + -');
export const clientBodySchema = z.object({
  uuid: z.string().uuid('uuid must be a UUID'),
  flow: z.enum([VISION_FLOW, '']).default(VISION_FLOW),
});

export interface AgentClient {
  email: string;
  uuid: string;
  flow: string;
}

export interface UserTraffic extends Traffic {
  email: string;
}

export interface AgentHealth {
  ok: boolean;
  xrayVersion?: string;
  users: number;
  xrayUsers?: number;
  error?: string;
}

export interface AgentServiceOptions {
  store: AgentStore;
  xray: XrayApi;
  inboundTag: string;
  xrayBin?: string;
}

/**
 * The agent's operations, shared by the HTTP server, the CLI and the reconciler. Every mutation runs
 * inside store.update(), i.e. under the cross-process lock, so the store and Xray change together.
 */
export class AgentService {
  private version?: Promise<string | undefined>;

  constructor(private readonly o: AgentServiceOptions) {}

  /** Persists first, then applies; if Xray is down the client stays stored and the reconciler applies it. */
  addClient(
    email: string,
    body: { uuid: string; flow: string },
  ): Promise<{ created: boolean; changed: boolean }> {
    return this.o.store.update(async (state, ctx) => {
      const old = state.clients[email];
      const changed = !old || old.uuid !== body.uuid || old.flow !== body.flow;
      state.clients[email] = { uuid: body.uuid, flow: body.flow };
      ctx.saveEvenOnError = true;
      // "already exists" would hide a changed uuid/flow, so a change is remove + add.
      if (old && changed) await this.o.xray.removeUser(this.o.inboundTag, email);
      await this.o.xray.addUser(this.o.inboundTag, { email, ...body });
      return { created: !old, changed };
    });
  }

  removeClient(email: string): Promise<{ removed: boolean }> {
    return this.o.store.update(async (state, ctx) => {
      const existed = email in state.clients;
      delete state.clients[email];
      ctx.saveEvenOnError = true;
      await this.o.xray.removeUser(this.o.inboundTag, email);
      return { removed: existed };
    });
  }

  async listClients(): Promise<AgentClient[]> {
    const { clients } = await this.o.store.read();
    return Object.entries(clients)
      .map(([email, c]) => ({ email, uuid: c.uuid, flow: c.flow }))
      .sort((a, b) => a.email.localeCompare(b.email));
  }

  /**
   * Totals since the last reset. Xray's counters are read with reset and added to the persisted totals
   * inside one locked update, so bytes survive agent and Xray restarts and are never added twice.
   */
  stats(reset: boolean): Promise<UserTraffic[]> {
    return this.counters(reset).then((c) => c.stats);
  }

  /**
   * Monotonic per-email totals of this store's epoch (they only grow, until a reset or a wiped store
   * starts a new epoch). The orchestrator keeps the last totals it took per node+email+epoch and adds
   * only the difference, so a lost or repeated answer never counts a byte twice.
   */
  counters(reset: boolean): Promise<{ epoch: string; stats: UserTraffic[] }> {
    return this.o.store.update(async (state) => {
      state.epoch ??= newEpoch();
      const epoch = state.epoch;
      // If Xray is unreachable its counters stay in Xray and are harvested later: report what is stored.
      await this.harvestInto(state).catch((e) => {
        if (!(e instanceof XrayError && e.unavailable)) throw e;
      });
      const out = Object.entries(state.traffic)
        .map(([email, t]) => ({ email, uplink: t.uplink, downlink: t.downlink }))
        .sort((a, b) => a.email.localeCompare(b.email));
      if (reset) {
        state.traffic = {};
        state.epoch = newEpoch();
      }
      return { epoch, stats: out };
    });
  }

  /** Moves Xray's counters into the store; called by the reconciler so an Xray restart loses little. */
  harvest(): Promise<void> {
    return this.o.store.update((state) => this.harvestInto(state));
  }

  private async harvestInto(state: AgentState): Promise<void> {
    for (const t of await this.o.xray.userTraffic(true)) {
      if (t.uplink === 0 && t.downlink === 0) continue;
      const total = state.traffic[t.email] ?? { uplink: 0, downlink: 0 };
      state.traffic[t.email] = { uplink: total.uplink + t.uplink, downlink: total.downlink + t.downlink };
    }
  }

  /**
   * Makes Xray's user list equal the store: adds missing or changed clients, removes unknown ones.
   * `force` re-adds everyone (after Xray came back; cheap, "already exists" is success).
   */
  reconcile(force: boolean): Promise<{ added: number; removed: number }> {
    return this.o.store.update(async (state) => {
      const live = new Map((await this.o.xray.listUsers(this.o.inboundTag)).map((u) => [u.email, u]));
      const tag = this.o.inboundTag;
      let added = 0;
      let removed = 0;
      for (const [email, c] of Object.entries(state.clients)) {
        const current = live.get(email);
        const same = current && current.uuid === c.uuid && current.flow === c.flow;
        if (same && !force) continue;
        if (current && !same) await this.o.xray.removeUser(tag, email);
        await this.o.xray.addUser(tag, { email, ...c });
        if (!same) added++;
      }
      for (const email of live.keys()) {
        if (state.clients[email]) continue;
        await this.o.xray.removeUser(tag, email);
        removed++;
      }
      return { added, removed };
    });
  }

  async health(): Promise<AgentHealth> {
    const { clients } = await this.o.store.read();
    const users = Object.keys(clients).length;
    const xrayVersion = await this.xrayVersion();
    try {
      const live: XrayUser[] = await this.o.xray.listUsers(this.o.inboundTag);
      return { ok: true, xrayVersion, users, xrayUsers: live.length };
    } catch (e) {
      return { ok: false, xrayVersion, users, error: (e as Error).message };
    }
  }

  private xrayVersion(): Promise<string | undefined> {
    const bin = this.o.xrayBin;
    if (!bin) return Promise.resolve(undefined);
    this.version ??= xrayVersion(bin).catch(() => {
      this.version = undefined; // try again next time
      return undefined;
    });
    return this.version;
  }
}
