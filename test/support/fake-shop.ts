import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { AutoRenewPlan } from '../../activities/auto-renew';
import type { Grant, RevokeDecision } from '../../activities/database';
import type { Notification } from '../../workflows/notification-messages';
import type { PaymentLink, PaymentNotice, PurchaseInput } from '../../workflows/purchase-messages';
import { subscriptionWorkflowId } from '../../workflows/purchase-messages';
import {
  type SubscriptionInput,
  expiryChangedSignal,
  subscriptionWorkflow,
} from '../../workflows/subscription';
import { activityServerTime, HOUR, Journal, type UnitActivities } from './time-skipping';
import { Failure } from '../../workflows/failures';

// The outside world of the workflows for the fast layer: the payment provider, our database, the VPN nodes
// and Telegram, as plain async functions with just enough state to answer like the real ones. Every call lands
// in the journal. Tests change the state (the provider says "succeeded", a node refuses) or override one function.

export interface FakeSubscription {
  nodeId: string;
  expiresAt: number;
  status: 'active' | 'revoking' | 'expired';
}

export class FakeShop {
  readonly journal = new Journal();
  /** What the provider would answer a GET /payments/{id} now. */
  provider: { status: PaymentNotice['status']; cancellationReason: string | null; cancelable: boolean } = {
    status: 'pending',
    cancellationReason: null,
    cancelable: true, // YooKassa cannot cancel a one-stage pending payment: set false for "kept open"
  };
  /** Healthy nodes with room, best first (selection order). */
  nodes: string[] = ['node-a'];
  /** Per node: 'permanent' → NodeRejected; a number → that many transient failures first. */
  addClientFails: Record<string, 'permanent' | number> = {};
  /** Permanent RemoveClient refusals left per node, before it succeeds. */
  removeClientRefusals: Record<string, number> = {};
  createPaymentFails = false;
  /** createPayment fails for good with this failure type (e.g. the balance does not cover the price). */
  createPaymentFailsWith: string | undefined;
  activateFails = false;
  blockedUser = false;
  readonly subscriptions = new Map<string, FakeSubscription>();
  /** The access a renewal extends (extendActiveSubscription), if the user has one. */
  activeSubscriptionId: string | null = null;
  private tariffMs = 30 * 24 * HOUR;
  private language = 'en';
  private telegramId = '0';

  /** Auto-renew plans per attempt (workflows/subscription/auto-renew.ts); unset: auto-renew is off. */
  autoRenewPlan?: (args: { subscriptionId: string; periodEnd: string; attempt: number }) => AutoRenewPlan;

  /** With a client, scheduleLifetime starts or signals the real lifetime workflow, as the real activity does. */
  lifetimes?: { client: Client; remindBeforeMs: number[] };

  private now(): number {
    return activityServerTime();
  }

  private notice(providerPaymentId: string): PaymentNotice {
    return {
      providerPaymentId,
      status: this.provider.status,
      amount: '199.00',
      currency: 'RUB',
      cancellationReason: this.provider.cancellationReason,
    };
  }

  activities(): UnitActivities {
    const j = this.journal;
    return {
      purchases: {
        createPayment: async (input: PurchaseInput): Promise<PaymentLink> => {
          j.record('createPayment', input);
          this.tariffMs = input.tariff.durationSeconds * 1000;
          this.language = input.language;
          this.telegramId = input.telegramId;
          if (this.createPaymentFailsWith)
            throw ApplicationFailure.nonRetryable('createPayment refused', this.createPaymentFailsWith);
          if (this.createPaymentFails)
            throw ApplicationFailure.nonRetryable('provider refused the payment', Failure.PaymentRejected);
          const at = new Date(this.now());
          return {
            paymentId: input.paymentId,
            providerPaymentId: input.provider === 'stars' ? input.paymentId : `yk-${input.paymentId}`,
            confirmationUrl: input.provider === 'stars' ? null : `https://pay.example/${input.paymentId}`,
            amount: input.tariff.price,
            currency: input.tariff.currency,
            createdAt: at.toISOString(),
            expiresAt: new Date(at.getTime() + input.paymentTimeoutMs).toISOString(),
            status: 'pending',
          };
        },
        getPaymentState: async ({ providerPaymentId }) => {
          j.record('getPaymentState', { providerPaymentId });
          return this.notice(providerPaymentId);
        },
        cancelOrGetFinalState: async (input) => {
          j.record('cancelOrGetFinalState', input);
          if (input.provider === 'stars') return { status: 'canceled' as const };
          const id = `yk-${input.paymentId}`;
          if (this.provider.status === 'succeeded' || this.provider.status === 'canceled')
            return this.notice(id);
          if (!this.provider.cancelable) return { status: 'pending' as const };
          this.provider = {
            ...this.provider,
            status: 'canceled',
            cancellationReason: 'canceled_by_merchant',
          };
          return this.notice(id);
        },
        refundPayment: async (args) => {
          j.record('refundPayment', args);
        },
        // Telegram lists the claimed Stars charge as paid by the payment's user (the real check is in the full layer).
        verifyStarCharge: async (args) => {
          j.record('verifyStarCharge', args);
          return { verdict: 'verified' as const, payerId: this.telegramId };
        },
        refundStarCharge: async (args) => {
          j.record('refundStarCharge', args);
          return 'refunded' as const;
        },
        recordPaymentSucceeded: async (args) => {
          j.record('recordPaymentSucceeded', args);
        },
        // No referrer in the fake shop: the reward step finds nothing to do (the real one: test/growth).
        offerReferralReward: async (args: { paymentId: string }) => {
          j.record('offerReferralReward', args);
          return null;
        },
        recordPaymentCanceled: async (args) => {
          j.record('recordPaymentCanceled', args);
        },
        recordPaymentExpired: async (args) => {
          j.record('recordPaymentExpired', args);
        },
        extendActiveSubscription: async (args): Promise<Grant | null> => {
          j.record('extendActiveSubscription', args);
          const id = this.activeSubscriptionId;
          const sub = id ? this.subscriptions.get(id) : undefined;
          if (!id || sub?.status !== 'active') return null;
          sub.expiresAt = Math.max(sub.expiresAt, this.now()) + this.tariffMs;
          return {
            kind: 'extended',
            subscriptionId: id,
            expiresAt: new Date(sub.expiresAt).toISOString(),
          };
        },
        activateSubscription: async (args): Promise<Grant> => {
          j.record('activateSubscription', args);
          if (this.activateFails)
            throw ApplicationFailure.nonRetryable(
              'paid amount differs from the tariff',
              Failure.AmountMismatch,
            );
          const expiresAt = this.now() + this.tariffMs;
          this.subscriptions.set(args.subscriptionId, { nodeId: args.nodeId, expiresAt, status: 'active' });
          this.activeSubscriptionId = args.subscriptionId;
          return {
            kind: 'activated',
            subscriptionId: args.subscriptionId,
            expiresAt: new Date(expiresAt).toISOString(),
          };
        },
        selectNode: async (args) => {
          j.record('selectNode', args);
          return this.nodes.find((n) => !(args.exclude ?? []).includes(n)) ?? null;
        },
        addClient: async (args) => {
          j.record('addClient', args);
          const fails = this.addClientFails[args.nodeId];
          if (fails === 'permanent')
            throw ApplicationFailure.nonRetryable(
              `node ${args.nodeId} refused the client`,
              Failure.NodeRejected,
            );
          if (typeof fails === 'number' && fails > 0) {
            this.addClientFails[args.nodeId] = fails - 1;
            throw new Error(`node ${args.nodeId} timed out`);
          }
        },
        removeClient: async (args) => {
          j.record('removeClient', args);
          const refusals = this.removeClientRefusals[args.nodeId] ?? 0;
          if (refusals > 0) {
            this.removeClientRefusals[args.nodeId] = refusals - 1;
            throw ApplicationFailure.nonRetryable(`node ${args.nodeId} is gone`, Failure.NodeRejected);
          }
        },
        raiseOpsAlert: async (args) => {
          j.record('raiseOpsAlert', args);
        },
        observeKeyDelivered: async (args) => {
          j.record('observeKeyDelivered', args);
        },
        scheduleLifetime: async (args) => {
          j.record('scheduleLifetime', args);
          if (!this.lifetimes) return;
          const sub = this.subscriptions.get(args.subscriptionId)!;
          const expiresAt = new Date(sub.expiresAt).toISOString();
          const input: SubscriptionInput = {
            subscriptionId: args.subscriptionId,
            telegramId: this.telegramId,
            language: this.language,
            nodeId: sub.nodeId,
            expiresAt,
            remindBeforeMs: this.lifetimes.remindBeforeMs,
          };
          await this.lifetimes.client.workflow.signalWithStart(subscriptionWorkflow, {
            workflowId: subscriptionWorkflowId(args.subscriptionId),
            taskQueue: Context.current().info.taskQueue,
            args: [input],
            signal: expiryChangedSignal,
            signalArgs: [{ expiresAt }],
          });
        },
        beginRevoke: async (args): Promise<RevokeDecision> => {
          j.record('beginRevoke', args);
          const sub = this.subscriptions.get(args.subscriptionId);
          if (!sub || sub.status === 'expired') return { kind: 'gone' };
          if (sub.expiresAt > this.now())
            return { kind: 'not_due', expiresAt: new Date(sub.expiresAt).toISOString() };
          sub.status = 'revoking';
          return { kind: 'revoke', nodeId: sub.nodeId };
        },
        finishRevoke: async (args) => {
          j.record('finishRevoke', args);
          const sub = this.subscriptions.get(args.subscriptionId);
          if (sub) sub.status = 'expired';
        },
        // Auto-renew: off unless a test plans renewals (then journaled), so other lifetimes keep their journal.
        planAutoRenew: async (args) => {
          if (!this.autoRenewPlan) return { kind: 'skip' as const, why: 'off' as const };
          j.record('planAutoRenew', args);
          return this.autoRenewPlan(args);
        },
        finishAutoRenewAttempt: async (args) => {
          j.record('finishAutoRenewAttempt', args);
        },
        checkNodes: async (args) => {
          j.record('checkNodes', args);
          return { up: this.nodes.length, down: 0 };
        },
        // NODE_DEAD_MIGRATE_AFTER is off in the shop: no dead node is ever drained.
        drainDeadNodes: async (args) => {
          j.record('drainDeadNodes', args);
          return [];
        },
      },
      telegram: {
        notify: async (n: Notification) => {
          j.record('notify', n);
          if (this.blockedUser)
            throw ApplicationFailure.nonRetryable(
              'Forbidden: bot was blocked by the user',
              Failure.TelegramBlocked,
            );
          return 'sent';
        },
      },
    };
  }
}
