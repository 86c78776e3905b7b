import type { AddressInfo } from 'node:net';
import express from 'express';
import { mountContractRoutes } from './fake-api-routes';

/**
 * A stand-in for the project's API at the HTTP boundary, for bot-level tests only: it implements the
 * contract's bot-facing routes (plus the admin reads the bot shows) with contract-exact bodies and records
 * every call. Full-journey tests use the real API instead; keep this file replaceable.
 */

export interface FakeTariff {
  id: string;
  slug: string;
  name: string;
  description: string;
  price: string;
  currency: string;
  duration_days: number;
  star_price?: number | null;
  kind?: 'subscription' | 'traffic_pack';
  traffic_pack_bytes?: number | null;
}

export interface FakePayment {
  payment_id: string;
  telegram_id: number;
  tariff_id: string;
  provider: 'yookassa' | 'stars';
  payment_status: 'pending' | 'succeeded' | 'canceled' | 'expired';
  amount: string;
  currency: string;
  created_at: string;
  expires_at: string;
  charge_id?: string;
}

export interface FakeApiCall {
  method: string;
  path: string;
  body: unknown;
  authorization?: string;
  idempotencyKey?: string;
}

/** A request held at the fake API's door: `reached` resolves when it arrives; it goes on after `release()`. */
export interface HeldRequest {
  reached: Promise<void>;
  release(): void;
}

export interface FakeApi {
  readonly url: string;
  readonly apiToken: string;
  readonly adminToken: string;
  readonly tariffs: FakeTariff[];
  readonly users: Map<number, { user_id: string; telegram_id: number; referral?: string }>;
  readonly payments: Map<string, FakePayment>;
  /** Active subscriptions by telegram id, as the status and config routes return them. */
  readonly active: Map<
    number,
    {
      tariff_name: string;
      end_date: string;
      vless_url: string;
      subscription_url: string;
      qr_png_base64: string;
      /** Quota fields of the status (the real API's defaults: 0, unlimited, not suspended). */
      traffic_used_bytes?: number;
      traffic_limit_bytes?: number | null;
      suspended?: boolean;
    }
  >;
  calls(route?: string): FakeApiCall[];
  /** The next request to `route` ("POST /api/v1/payments/create") is answered with this status (and body). */
  failNext(route: string, status: number, body?: unknown): void;
  /** The next request to `route` hangs until released: a slow API, without a timing guess. */
  hold(route: string): HeldRequest;
  close(): Promise<void>;
}

export const DEFAULT_TARIFFS: FakeTariff[] = [
  {
    id: 'c0a80101-0000-4000-8000-000000000001',
    slug: 'month',
    name: 'Месяц',
    description: '30 дней',
    price: '199.00',
    currency: 'RUB',
    duration_days: 30,
    star_price: 100,
  },
  {
    id: 'c0a80101-0000-4000-8000-000000000003',
    slug: 'quarter',
    name: '3 месяца',
    description: '90 дней',
    price: '499.00',
    currency: 'RUB',
    duration_days: 90,
    star_price: null,
  },
];

export async function startFakeApi(opts: { tariffs?: FakeTariff[] } = {}): Promise<FakeApi> {
  const apiToken = 'fake-api-token';
  const adminToken = 'fake-admin-token';
  const tariffs = opts.tariffs ?? DEFAULT_TARIFFS.map((t) => ({ ...t }));
  const users: FakeApi['users'] = new Map();
  const payments: FakeApi['payments'] = new Map();
  const active: FakeApi['active'] = new Map();
  const recorded: Array<FakeApiCall & { route: string }> = [];
  const failures: Array<{ route: string; status: number; body?: unknown }> = [];
  const holds: Array<{ route: string; arrived(): void; released: Promise<void> }> = [];
  let base = '';

  const app = express();
  app.use(express.json());
  app.use((req, res, next) => {
    const route = `${req.method} ${req.path}`;
    recorded.push({
      route,
      method: req.method,
      path: req.originalUrl,
      body: req.body,
      authorization: req.get('authorization'),
      idempotencyKey: req.get('idempotency-key'),
    });
    const admin = req.path.startsWith('/api/v1/admin/');
    if (req.get('authorization') !== `Bearer ${admin ? adminToken : apiToken}`) {
      return void res.status(401).json({ error: 'unauthorized' });
    }
    const i = failures.findIndex((f) => f.route === route);
    if (i >= 0) {
      const failure = failures.splice(i, 1)[0];
      return void res.status(failure.status).json(failure.body ?? { error: 'injected failure' });
    }
    const h = holds.findIndex((x) => x.route === route);
    if (h >= 0) {
      const held = holds.splice(h, 1)[0];
      held.arrived();
      return void held.released.then(() => next());
    }
    next();
  });

  mountContractRoutes(app, { tariffs, users, payments, active }, () => base);

  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    apiToken,
    adminToken,
    tariffs,
    users,
    payments,
    active,
    calls: (route) => recorded.filter((c) => route === undefined || c.route === route),
    failNext: (route, status, body) => void failures.push({ route, status, body }),
    hold(route) {
      let arrived = () => {};
      let release = () => {};
      const reached = new Promise<void>((r) => {
        arrived = r;
      });
      const released = new Promise<void>((r) => {
        release = r;
      });
      holds.push({ route, arrived, released });
      return { reached, release };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
