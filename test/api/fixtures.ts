import { randomBytes, randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../../infra/temporal';
import { purchaseWorkflowId } from '../../workflows/purchase-messages';

// biome-ignore lint/suspicious/noExplicitAny: rows are plain records.
type Row = Record<string, any>;
const one = async (orm: MikroORM, sql: string, params: unknown[]): Promise<Row> =>
  (await orm.em.getConnection().execute(sql, params, 'all'))[0];

let seq = 0;
export const uniqueTelegramId = () =>
  900_000_000 + Math.floor(Math.random() * 1_000_000) * 100 + (seq++ % 100);

export const insertUser = (orm: MikroORM, telegramId: number, username: string | null = null) =>
  one(orm, `insert into users (telegram_id, username, language) values (?, ?, 'en') returning *`, [
    telegramId,
    username,
  ]);

export function insertTariff(
  orm: MikroORM,
  t: {
    slug?: string;
    price?: string;
    seconds?: number;
    starPrice?: number | null;
    active?: boolean;
    order?: number;
  } = {},
) {
  return one(
    orm,
    `insert into tariffs (slug, name, description, price, duration_seconds, star_price, is_active, display_order)
     values (?, ?, 'test tariff', ?, ?, ?, ?, ?) returning *`,
    [
      t.slug ?? `t-${randomBytes(3).toString('hex')}`,
      'Month',
      t.price ?? '199.00',
      t.seconds ?? 30 * 86_400,
      t.starPrice === undefined ? 100 : t.starPrice,
      t.active ?? true,
      t.order ?? 0,
    ],
  );
}

export const insertNode = (orm: MikroORM, name = `node-${randomBytes(3).toString('hex')}`, status = 'up') =>
  one(
    orm,
    `insert into vpn_nodes (name, host, port, location, country_code, capacity, driver, agent_url, agent_token,
       reality_public_key, reality_short_id, reality_server_name, status, client_count)
     values (?, 'nl1.vpn.example', 443, 'nl', 'NL', 100, 'agent', 'http://10.0.0.1:7070', 'agent-secret-0123456789',
       'pbk-public-key', 'abcd', 'www.example.com', ?, 3) returning *`,
    [name, status],
  );

export function insertPayment(
  orm: MikroORM,
  p: {
    userId: string;
    tariffId: number;
    provider?: string;
    providerPaymentId?: string | null;
    amount?: string;
    currency?: string;
    status?: string;
    paidAt?: Date | null;
  },
) {
  const id = randomUUID();
  const provider = p.provider ?? 'yookassa';
  return one(
    orm,
    `insert into payments (id, user_id, tariff_id, provider, provider_payment_id, status, amount, currency, paid_at, expires_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, now() + interval '1 hour') returning *`,
    [
      id,
      p.userId,
      p.tariffId,
      provider,
      p.providerPaymentId === undefined ? (provider === 'stars' ? id : null) : p.providerPaymentId,
      p.status ?? 'pending',
      p.amount ?? '199.00',
      p.currency ?? (provider === 'stars' ? 'XTR' : 'RUB'),
      p.paidAt ?? null,
    ],
  );
}

export function insertSubscription(
  orm: MikroORM,
  s: { userId: string; tariffId: number; nodeId: string; status?: string; expiresAt: Date },
) {
  return one(
    orm,
    `insert into subscriptions (id, user_id, tariff_id, node_id, status, client_uuid, client_email, subscription_token,
       starts_at, expires_at, upload_bytes, download_bytes, period_upload_bytes, period_download_bytes)
     values (?, ?, ?, ?, ?, ?, 'email', ?, now() - interval '1 day', ?, 1024, 2048, 1024, 2048) returning *`,
    [
      randomUUID(),
      s.userId,
      s.tariffId,
      s.nodeId,
      s.status ?? 'active',
      randomUUID(),
      randomBytes(24).toString('base64url'),
      s.expiresAt,
    ],
  );
}

/** A `purchaseWorkflow` on a queue no worker polls: it stays Running, keeps its search attributes, records signals. */
export async function parkPurchase(
  client: Client,
  a: { paymentId?: string; telegramId?: string; stage?: string; enteredAt?: Date; queue?: string } = {},
) {
  const paymentId = a.paymentId ?? randomUUID();
  return client.workflow.start('purchaseWorkflow', {
    workflowId: purchaseWorkflowId(paymentId),
    taskQueue: a.queue ?? 'api-tests-no-worker',
    args: [{ paymentId }],
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.PaymentId, value: paymentId },
      { key: SEARCH_ATTRIBUTES.TelegramId, value: a.telegramId ?? '1' },
      { key: SEARCH_ATTRIBUTES.PurchaseStage, value: a.stage ?? 'AWAITING_PAYMENT' },
      { key: SEARCH_ATTRIBUTES.StageEnteredAt, value: a.enteredAt ?? new Date() },
    ],
  });
}

/** The arguments of every signal a workflow received, decoded. */
export async function signalsOf(
  client: Client,
  workflowId: string,
): Promise<Array<{ name: string; args: unknown[] }>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .map((e) => e.workflowExecutionSignaledEventAttributes)
    .filter((a): a is NonNullable<typeof a> => Boolean(a))
    .map((a) => ({
      name: a.signalName ?? '',
      args: (a.input?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload(p)),
    }));
}
