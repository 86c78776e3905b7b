import { escapeHtml } from '../../infra/i18n';
import { formatPrice } from '../../infra/i18n/format';
import type { AdminRecord } from '../api-client';

/**
 * Renders admin API records as short HTML lines. The admin payloads are not fixed by the contract beyond
 * their routes, so known keys get labels and everything else is shown as is; secrets are never shown.
 */

const SECRET_KEY = /token|secret|password|private|key$/i;
const MAX_TEXT = 3800; // Telegram's limit is 4096; leave room for the title

function scalar(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number' && !Number.isInteger(value)) return String(Math.round(value * 100) / 100);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  return undefined;
}

/** "Label: value" per line; nested objects flatten to "parent_child". */
export function renderFields(record: AdminRecord, labels: Record<string, string>, prefix = ''): string[] {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (SECRET_KEY.test(key)) continue;
    const name = prefix ? `${prefix}_${key}` : key;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      lines.push(...renderFields(value as AdminRecord, labels, name));
      continue;
    }
    const shown = Array.isArray(value) ? String(value.length) : scalar(value);
    if (shown !== undefined) lines.push(`${escapeHtml(labels[name] ?? name)}: <b>${escapeHtml(shown)}</b>`);
  }
  return lines;
}

/** One bullet per record ("• a · b · c"), cut to fit one Telegram message. */
export function renderList(records: AdminRecord[]): string {
  const lines: string[] = [];
  let length = 0;
  for (const [i, record] of records.entries()) {
    const parts = Object.entries(record)
      .filter(([key]) => !SECRET_KEY.test(key))
      .map(([key, value]) => (scalar(value) === undefined ? undefined : `${key}=${scalar(value)}`))
      .filter((p): p is string => p !== undefined);
    const line = `• ${escapeHtml(parts.join(' · '))}`;
    if (length + line.length > MAX_TEXT) {
      lines.push(`… +${records.length - i}`);
      break;
    }
    lines.push(line);
    length += line.length + 1;
  }
  return lines.join('\n');
}

type Money = { amount: string; currency: string };

/** The stats screen: counts, revenue as money per currency, conversion as buyers / viewers. */
export function renderStats(stats: AdminRecord, labels: Record<string, string>): string[] {
  const s = stats as {
    users?: number;
    active_subscriptions?: number;
    revenue?: { today?: Money[]; this_month?: Money[] };
    conversion?: { catalog_viewers?: number; buyers?: number; rate?: number };
    nodes?: Array<{ name: string; status: string; capacity: number; active_subscriptions: number }>;
  };
  const money = (rows: Money[] | undefined) =>
    rows?.length ? rows.map((r) => formatPrice(r.amount, r.currency)).join(' + ') : '0';
  const c = s.conversion ?? {};
  const line = (key: string, value: string | number) =>
    `${escapeHtml(labels[key] ?? key)}: <b>${escapeHtml(String(value))}</b>`;
  return [
    line('users', s.users ?? 0),
    line('active_subscriptions', s.active_subscriptions ?? 0),
    line('revenue_today', money(s.revenue?.today)),
    line('revenue_month', money(s.revenue?.this_month)),
    line('conversion', `${c.buyers ?? 0}/${c.catalog_viewers ?? 0} (${((c.rate ?? 0) * 100).toFixed(1)}%)`),
    ...(s.nodes ?? []).map(
      (n) => `• ${escapeHtml(n.name)}: ${escapeHtml(n.status)}, ${n.active_subscriptions}/${n.capacity}`,
    ),
  ];
}
