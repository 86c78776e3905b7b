// Driving the deployed stack from outside, as its users do: the API over HTTP (bot-facing and admin
// tokens), the YooKassa emulator's payment page, the Telegram emulator's chat, PostgreSQL for the audit.
import assert from 'node:assert/strict';
import pg from 'pg';
import type { RecordedCall, TelegramEmulator } from '../../infra/local/telegram-emulator';

export interface ApiClient {
  url: string;
  call(
    method: string,
    path: string,
    opts?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any }>;
}

export function apiClient(url: string, apiToken: string): ApiClient {
  return {
    url,
    async call(method, path, opts = {}) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${opts.token ?? apiToken}`,
          ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...opts.headers,
        },
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {}
      return { status: res.status, body };
    },
  };
}

export async function until<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 30_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (${lastError})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The buyer's browser on the emulator's payment page: open it, press Pay (a form POST, 303 back). */
export async function payOnPage(confirmationUrl: string): Promise<void> {
  const page = await fetch(confirmationUrl);
  const html = await page.text();
  assert.equal(page.status, 200, `the payment page ${confirmationUrl} opens`);
  const action = /action="([^"]*\/pay)"/.exec(html)?.[1];
  assert.ok(action, 'the payment page has a Pay form');
  const res = await fetch(new URL(action.replace(/&#47;/g, '/'), confirmationUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: '',
    redirect: 'manual',
  });
  assert.equal(res.status, 303, `Pay: ${res.status} ${await res.text()}`);
}

/** Retries what a person would retry: connection errors, 5xx and 429 (the stack may be restarting). */
export async function persistently(
  what: string,
  attempt: () => Promise<{ status: number; body: any }>,
  ok: (status: number) => boolean,
  timeoutMs = 120_000,
): Promise<{ status: number; body: any; retries: number }> {
  const deadline = Date.now() + timeoutMs;
  let retries = 0;
  for (;;) {
    let last: string;
    try {
      const res = await attempt();
      if (ok(res.status)) return { ...res, retries };
      if (res.status < 500 && res.status !== 429)
        throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
      last = `${res.status} ${JSON.stringify(res.body)}`;
    } catch (e) {
      if (String(e).includes(`${what}:`)) throw e;
      last = String(e);
    }
    if (Date.now() > deadline) throw new Error(`${what}: still failing after ${timeoutMs} ms: ${last}`);
    retries++;
    await new Promise((r) => setTimeout(r, 500));
  }
}

export interface BoughtSubscription {
  telegramId: number;
  paymentId: string;
  retries: number;
}

/** One buyer through the bot-facing API: register, create a card payment, pay on the page. */
export async function buyThroughApi(
  api: ApiClient,
  telegramId: number,
  tariffSlug: string,
): Promise<BoughtSubscription> {
  let retries = 0;
  const reg = await persistently(
    'register',
    () =>
      api.call('POST', '/api/v1/users/register', { body: { telegram_id: telegramId, first_name: 'Burst' } }),
    (s) => s === 200 || s === 201,
  );
  retries += reg.retries;
  // The same Idempotency-Key on every retry: a create that succeeded but whose answer was lost is not
  // a second payment.
  const key = `deploy-test-${telegramId}`;
  const created = await persistently(
    'payments/create',
    () =>
      api.call('POST', '/api/v1/payments/create', {
        body: { telegram_id: telegramId, tariff_slug: tariffSlug, provider: 'yookassa' },
        headers: { 'idempotency-key': key },
      }),
    (s) => s === 201 || s === 200,
  );
  retries += created.retries;
  const body = created.body as { payment_id: string; confirmation_url: string };
  await until(
    () => payOnPage(body.confirmation_url).then(() => true),
    `paying ${body.payment_id}`,
    60_000,
    500,
  );
  return { telegramId, paymentId: body.payment_id, retries };
}

export interface GrantAudit {
  buyers: number;
  succeeded_payments: number;
  payments_total: number;
  granted: number;
  doubled: number;
  lost: number;
  refunded: number;
}

/**
 * What PostgreSQL says about a set of buyers once the dust settles: each paid payment must have granted
 * exactly one subscription whose length is exactly one tariff period (a doubled grant shows as a longer
 * one or a second row).
 */
export async function auditGrants(
  databaseUrl: string,
  telegramIds: number[],
  periodSeconds: number,
): Promise<GrantAudit> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const ids = telegramIds.map(String);
    const payments = await client.query(
      `select p.status, count(*)::int as n from payments p join users u on u.id = p.user_id
        where u.telegram_id = any($1::bigint[]) group by p.status`,
      [ids],
    );
    const byStatus: Record<string, number> = Object.fromEntries(
      payments.rows.map((r) => [String(r.status), Number(r.n)]),
    );
    const subs = await client.query(
      `select u.telegram_id, count(s.id)::int as subs,
              max(extract(epoch from (s.expires_at - s.starts_at)))::float as seconds
         from users u left join subscriptions s on s.user_id = u.id
        where u.telegram_id = any($1::bigint[]) group by u.telegram_id`,
      [ids],
    );
    let granted = 0;
    let doubled = 0;
    let lost = 0;
    for (const r of subs.rows) {
      if (r.subs === 0) lost++;
      else if (r.subs > 1 || Math.abs(Number(r.seconds) - periodSeconds) > 5) doubled++;
      else granted++;
    }
    lost += telegramIds.length - subs.rows.length;
    return {
      buyers: telegramIds.length,
      succeeded_payments: byStatus.succeeded ?? 0,
      payments_total: Object.values(byStatus).reduce((a, b) => a + b, 0),
      granted,
      doubled,
      lost,
      refunded: byStatus.refunded ?? 0,
    };
  } finally {
    await client.end();
  }
}

// ---- the chat, through the Telegram emulator -------------------------------------------------------

const SCREEN_METHODS = new Set(['sendMessage', 'editMessageText', 'sendInvoice', 'sendPhoto']);
export const textOf = (c: RecordedCall): string => String(c.params.text ?? c.params.caption ?? '');

export function buttonsOf(call: RecordedCall): Array<{ text: string; url?: string; callback_data?: string }> {
  const markup = call.params.reply_markup as string | { inline_keyboard?: unknown } | undefined;
  const parsed = (typeof markup === 'string' ? JSON.parse(markup) : markup) as
    | { inline_keyboard?: Array<Array<{ text: string; url?: string; callback_data?: string }>> }
    | undefined;
  return parsed?.inline_keyboard?.flat() ?? [];
}

/** A Telegram user in their chat with the deployed bot container. */
export class ChatUser {
  taps = 0;
  constructor(
    readonly emu: TelegramEmulator,
    readonly id: number,
  ) {}

  private next(since: number, where: { method?: string; text?: RegExp }, timeoutMs = 30_000) {
    return this.emu.waitFor(
      (c, i) =>
        i >= since &&
        !c.error &&
        (where.method ? c.method === where.method : SCREEN_METHODS.has(c.method)) &&
        Number(c.params.chat_id) === this.id &&
        (!where.text || where.text.test(textOf(c))),
      timeoutMs,
    );
  }

  mark(): number {
    return this.emu.calls().length;
  }

  async start(): Promise<RecordedCall> {
    const since = this.mark();
    this.emu.injectCommand(this.id, 'start', undefined, { first_name: 'Deploy', language_code: 'en' });
    return this.next(since, { method: 'sendMessage' });
  }

  async tap(button: string | RegExp, expect: { method?: string; text?: RegExp } = {}): Promise<RecordedCall> {
    const since = this.mark();
    const tapped = this.emu.tapButton(this.id, button);
    assert.ok(tapped.callbackId, `"${tapped.text}" is a callback button`);
    this.taps++;
    return this.next(since, expect);
  }

  openUrl(button: string | RegExp): string {
    const tapped = this.emu.tapButton(this.id, button);
    assert.ok(tapped.url, `"${tapped.text}" is a URL button`);
    this.taps++;
    return tapped.url;
  }

  /** /start → Plans → plan → Card → the payment page's URL. */
  async chooseCard(plan: RegExp): Promise<string> {
    await this.tap('💳 Plans', { text: /Choose a plan/ });
    await this.tap(plan, { text: /How would you like to pay/ });
    await this.tap('💳 Card (YooKassa)', { text: /An invoice for/ });
    return this.openUrl('➡️ Go to payment');
  }

  /** The activation message (with the vless:// key) and the QR photo, after `since`. */
  async keyAndQr(since: number, timeoutMs = 90_000): Promise<{ vless: string; png: Buffer }> {
    // The key may come as a message, an edit of the invoice screen or the QR photo's caption.
    const text = await this.next(since, { text: /vless:\/\// }, timeoutMs);
    const photo = await this.next(since, { method: 'sendPhoto' }, 30_000);
    const vless = /vless:\/\/[^\s<]+/.exec(textOf(text))?.[0];
    assert.ok(vless, 'the activation message carries the vless:// key');
    assert.ok(photo.photo, 'the QR code is uploaded as a photo');
    return { vless, png: photo.photo as Buffer };
  }
}
