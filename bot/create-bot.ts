import type { Logger } from 'pino';
import { type Context, TelegramError } from 'telegraf';
import { message } from 'telegraf/filters';
import { type ApiClient, ApiUnavailableError } from './api-client';
import { isRateLimited } from './api-refusals';
import { ADMIN_ACTION_TYPES, type CallbackAction, decodeCallback } from '../infra/telegram/callbacks';
import { DispatchingBot } from './dispatching-bot';
import { isAdmin, registerAdmin, showAdmin } from './handlers/admin';
import { onAdminUser } from './handlers/admin-user';
import { onAdminBroadcast, registerAdminBroadcast } from './handlers/admin-broadcast';
import { onAdminNode } from './handlers/admin-nodes';
import { showGuide, showGuides } from './handlers/guides';
import { askPromo, registerGrowth, startTrial } from './handlers/growth';
import { registerPayments, retryPayment } from './handlers/payments';
import { changeTo, showPlanChange } from './handlers/plan-change';
import { showReferral } from './handlers/referral-gift';
import { showMyGifts } from './handlers/my-gifts';
import { registerAdminPromo } from './handlers/admin-promo';
import { registerStart, showMenu } from './handlers/start';
import { showSubscription } from './handlers/subscription';
import { onDevices, registerDevices } from './handlers/devices';
import { registerSupport, showSupport } from './handlers/support';
import { pay, showTariff, showTariffs } from './handlers/tariffs';
import { showAutoRenewConsent, switchAutoRenew } from './handlers/auto-renew';
import {
  askTopUpAmount,
  payFromBalance,
  registerBalance,
  showBalance,
  topUpPreset,
} from './handlers/balance';
import { doCancel, showCancel } from './handlers/cancel';
import {
  askRefundDetails,
  confirmRefund,
  registerAdminRefund,
  showRefundPayment,
} from './handlers/admin-refund';
import { answerQuietly, type BotDeps, cannotReply, KEEP_MESSAGE, textsFor } from './ui';

export interface CreateBotOptions {
  token: string;
  /** Bot API root; tests point it at the emulator. */
  apiRoot: string;
  api: ApiClient;
  supportUrl: string;
  adminIds: readonly number[];
  logger: Logger;
  /** Chats handled at the same time (default 50). */
  concurrency?: number;
  /** Per-user flood control (limit updates/s, then cooldownMs of silence). Omitted: off (bot/main passes the config's). */
  flood?: { limit: number; cooldownMs: number };
  /** REFERRAL_BONUS_DAYS for the invite screen. */
  referralBonusDays?: number;
}

function route(ctx: Context, deps: BotDeps, action: CallbackAction): Promise<void> {
  switch (action.type) {
    case 'menu':
      return showMenu(ctx, deps);
    case 'tariffs':
      return showTariffs(ctx, deps);
    case 'renew':
      return showTariffs(ctx, deps, { renew: true });
    case 'tariff':
      return showTariff(ctx, deps, action.tariffId, action.promo);
    case 'pay':
      return pay(ctx, deps, action.tariffId, action.method, action.promo);
    case 'trial':
      return startTrial(ctx, deps);
    case 'promo':
      return askPromo(ctx);
    case 'retry':
      return retryPayment(ctx, deps, action.paymentId);
    case 'subscription':
      return showSubscription(ctx, deps);
    case 'guides':
      return showGuides(ctx);
    case 'guide':
      return showGuide(ctx, action.os);
    case 'support':
      return showSupport(ctx, deps);
    case 'admin':
      return showAdmin(ctx, deps, action.view);
    case 'adminUser':
      return onAdminUser(ctx, deps, action.op, action.telegramId);
    case 'adminBroadcast':
      return onAdminBroadcast(ctx, deps, action.op, action.arg);
    case 'adminNode':
      return onAdminNode(ctx, deps, action.op, action.nodeId);
    case 'referral':
      return showReferral(ctx, deps);
    case 'gift':
      return pay(ctx, deps, action.tariffId, 'card', undefined, 'gift');
    case 'myGifts':
      return showMyGifts(ctx, deps);
    case 'changePlan':
      return showPlanChange(ctx, deps);
    case 'changeTo':
      return changeTo(ctx, deps, action.tariffId);
    case 'renewConsent':
      return showAutoRenewConsent(ctx, action.tariffId, deps);
    case 'payAutoRenew':
      return pay(ctx, deps, action.tariffId, action.method ?? 'card', undefined, 'subscription', true);
    case 'autoRenew':
      return switchAutoRenew(ctx, deps, action.on);
    case 'balance':
      return showBalance(ctx, deps);
    case 'topUp':
      return topUpPreset(ctx, deps, action.amount, action.method ?? 'card');
    case 'topUpOther':
      return askTopUpAmount(ctx);
    case 'payBalance':
      return payFromBalance(ctx, deps, action.tariffId);
    case 'cancelAsk':
      return showCancel(ctx, deps);
    case 'cancelDo':
      return doCancel(ctx, deps, action.refund);
    case 'refundPick':
      return showRefundPayment(ctx, deps, action.telegramId, action.paymentId);
    case 'refundTo':
      return askRefundDetails(ctx, deps, action.telegramId, action.paymentId, action.to);
    case 'refundYes':
      return confirmRefund(ctx, deps, action);
    case 'devices':
      return onDevices(ctx, deps, action.op, action.deviceId);
  }
}

/** Buttons only admins may use; for anyone else they do nothing (like a stale button). */
const ADMIN_ACTIONS = new Set<CallbackAction['type']>([
  'admin',
  'adminUser',
  'adminBroadcast',
  'adminNode',
  ...ADMIN_ACTION_TYPES, // the admin refund's steps (infra/telegram/callbacks.ts)
]);

/** A TelegramError carries the whole request payload (a user's key, say): log only what identifies the failure. */
function loggable(err: unknown): unknown {
  if (!(err instanceof TelegramError)) return err;
  return {
    type: 'TelegramError',
    code: err.code,
    description: err.description,
    method: (err.on as { method?: string } | undefined)?.method,
  };
}

/** Builds the bot with every handler; the caller starts it (polling or webhook). */
export function createBot(options: CreateBotOptions): DispatchingBot {
  const deps: BotDeps = {
    api: options.api,
    supportUrl: options.supportUrl,
    adminIds: new Set(options.adminIds),
    logger: options.logger,
    referralBonusDays: options.referralBonusDays,
  };
  const bot = new DispatchingBot(
    options.token,
    { telegram: { apiRoot: options.apiRoot } },
    {
      concurrency: options.concurrency ?? 50,
      flood: options.flood ?? { limit: 0, cooldownMs: 0 },
      logger: options.logger,
    },
  );

  registerStart(bot, deps);
  registerSupport(bot, deps);
  registerAdmin(bot, deps);
  registerAdminPromo(bot, deps);
  registerAdminBroadcast(bot, deps);
  registerPayments(bot, deps);
  registerGrowth(bot, deps);
  registerBalance(bot, deps);
  registerAdminRefund(bot, deps);
  registerDevices(bot, deps);

  bot.on('callback_query', async (ctx) => {
    const action = decodeCallback('data' in ctx.callbackQuery ? ctx.callbackQuery.data : undefined);
    if (!action || (ADMIN_ACTIONS.has(action.type) && !isAdmin(ctx, deps))) {
      // A stale button from an older bot version (or a forged one): answer so the spinner stops, do nothing.
      await answerQuietly(ctx, textsFor(ctx).errors.unknownAction);
      return;
    }
    await answerQuietly(ctx);
    if (action.keep) ctx.state[KEEP_MESSAGE] = true;
    await route(ctx, deps, action);
  });

  // Any other text (or an unknown command) brings the menu back rather than silence.
  bot.on(message('text'), (ctx) => showMenu(ctx, deps));

  // Without this telegraf rethrows and polling stops; here one bad update costs one apology, not the bot.
  bot.catch(async (err, ctx) => {
    const apiDown = err instanceof ApiUnavailableError;
    deps.logger[apiDown ? 'warn' : 'error'](
      {
        err: loggable(err),
        updateId: ctx.update.update_id,
        updateType: ctx.updateType,
        telegramId: ctx.from?.id,
      },
      'update handling failed',
    );
    if (!ctx.chat || cannotReply(err)) return;
    const m = textsFor(ctx);
    try {
      const text = apiDown
        ? m.errors.apiUnavailable
        : isRateLimited(err)
          ? m.errors.rateLimited
          : m.errors.tryAgain;
      await ctx.reply(text);
    } catch (replyErr) {
      deps.logger.warn(
        { err: replyErr, updateId: ctx.update.update_id },
        'could not tell the user about the failure',
      );
    }
  });

  return bot;
}
