import type { MikroORM } from '@mikro-orm/postgresql';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Logger } from 'pino';
import { OPS_ALERT_WORKFLOW_TYPE, opsAlertWorkflowId } from '../workflows/ops-alert-messages';
import type { BreakerSystem } from './circuit-breaker';

/**
 * Ops alerts that reach a human (issue 16): every alert is a log line and a metric, and, when
 * ADMIN_ALERT_CHAT_ID is set, a message to the admin chat on the rate-limited telegram queue.
 *
 * Grouped and throttled in PostgreSQL (`alert_windows`, one row per alert key): the same key reaches the
 * chat at most once per ALERT_REPEAT; the repeats held back meanwhile are counted and reported in the next
 * message of that key. The decision and the start of the delivery workflow share one transaction, so a
 * crash between them leaves no window marked "sent" without a message on its way (at worst, one repeat).
 */

export interface OpsAlertSettings {
  /** ADMIN_ALERT_CHAT_ID (a user id or a group's negative id); null: log and metric only. */
  chatId: string | null;
  /** ALERT_REPEAT: the same alert key at most once per this long. */
  repeatMs: number;
  /** The purchases queue the delivery workflow runs on (its send runs on the paired telegram queue). */
  taskQueue: string;
}

export interface OpsAlert {
  /** no_node_available, revoke_failed, money_alarm, node_down, node_up, breaker_open, stuck_purchases, ... */
  kind: string;
  detail: string;
  /** What counts as "the same alert" (default: the kind), e.g. `node_down:<node id>`. */
  key?: string;
}

export type OpsAlertOutcome = 'sent' | 'held_back' | 'logged';

export interface OpsAlerter {
  raise(alert: OpsAlert): Promise<OpsAlertOutcome>;
}

export const DEFAULT_ALERT_REPEAT_MS = 15 * 60_000;

/** The delivery workflow's input: one message to the admin chat. */
export interface OpsAlertMessage {
  chatId: string;
  text: string;
}

/** The admin chat's text: plain (no parse mode), so details with < or & cannot break it. */
export function alertText(alert: OpsAlert, heldBack: number, since: Date | null): string {
  const lines = [`🚨 ${alert.kind}`, alert.detail];
  if (heldBack > 0 && since) {
    lines.push(
      `(+${heldBack} more of the same since ${since.toISOString().replace(/\.\d+Z$/, 'Z')}, held back)`,
    );
  }
  return lines.join('\n');
}

export function createOpsAlerter(deps: {
  orm: MikroORM;
  temporal: Client;
  logger: Logger;
  settings: OpsAlertSettings;
  onAlert?: (kind: string) => void;
}): OpsAlerter {
  const { orm, temporal, logger, settings } = deps;
  const repeatSecs = settings.repeatMs / 1000;

  async function deliver(alert: OpsAlert, key: string, windowStart: Date, text: string): Promise<void> {
    try {
      await temporal.workflow.start(OPS_ALERT_WORKFLOW_TYPE, {
        // One delivery per window: a retried raise after a crash finds the same id and sends nothing more.
        workflowId: opsAlertWorkflowId(key, windowStart),
        taskQueue: settings.taskQueue,
        args: [{ chatId: String(settings.chatId), text } satisfies OpsAlertMessage],
        staticSummary: `🚨 ${alert.kind} → admin chat`,
        staticDetails: alert.detail.slice(0, 500),
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }

  return {
    async raise(alert) {
      logger.error({ alert: alert.kind, detail: alert.detail }, `ops alert: ${alert.kind}`);
      deps.onAlert?.(alert.kind);
      if (!settings.chatId) return 'logged';
      const key = (alert.key ?? alert.kind).slice(0, 200);
      return orm.em.fork().transactional(async (em) => {
        const q = (sql: string, params: unknown[]) =>
          em.getConnection().execute(sql, params, 'all', em.getTransactionContext());
        const inserted = await q(
          `insert into alert_windows (alert_key, kind, last_sent_at, held_back, last_detail)
           values (?, ?, now(), 0, ?) on conflict (alert_key) do nothing returning last_sent_at`,
          [key, alert.kind, alert.detail],
        );
        if (inserted.length > 0) {
          await deliver(alert, key, new Date(inserted[0].last_sent_at), alertText(alert, 0, null));
          return 'sent';
        }
        const [w] = await q(
          `select held_back, last_sent_at, last_sent_at <= now() - make_interval(secs => ?) as due
             from alert_windows where alert_key = ? for update`,
          [repeatSecs, key],
        );
        if (!w.due) {
          await q(`update alert_windows set held_back = held_back + 1, last_detail = ? where alert_key = ?`, [
            alert.detail,
            key,
          ]);
          return 'held_back';
        }
        const [next] = await q(
          `update alert_windows set last_sent_at = now(), held_back = 0, kind = ?, last_detail = ?
            where alert_key = ? returning last_sent_at`,
          [alert.kind, alert.detail, key],
        );
        const text = alertText(alert, Number(w.held_back), new Date(w.last_sent_at));
        await deliver(alert, key, new Date(next.last_sent_at), text);
        return 'sent';
      });
    },
  };
}

/** Never lets an alert's own failure (PostgreSQL or Temporal down) break the caller that raised it. */
export function raiseQuietly(alerter: OpsAlerter | undefined, alert: OpsAlert, logger: Logger): void {
  alerter?.raise(alert).catch((err) => logger.warn({ err, alert: alert.kind }, 'ops alert not delivered'));
}

/** A provider's circuit breaker opening: one alert per system per ALERT_REPEAT. */
export function breakerAlert(alerts: OpsAlerter | undefined, logger: Logger) {
  return (system: BreakerSystem, error: string) =>
    raiseQuietly(
      alerts,
      {
        kind: 'breaker_open',
        key: `breaker_open:${system}`,
        detail: `${system} circuit breaker open, new work refused until a probe succeeds: ${error.slice(0, 300)}`,
      },
      logger,
    );
}
