import { subscriptionPageUrl } from '../subscription/page-url';
import {
  durationUnit,
  escapeHtml as h,
  formatDateTime,
  formatPrice,
  pluralEn,
  type YooKassaReason,
} from './format';
import type { GuideOs, Messages, TariffText } from './ru';

/** Everything the bot and the notifications say in English (for language_code en*). Texts are Telegram HTML. */

const date = (d: Date | string) => formatDateTime(d, 'en-GB');

function duration(days: number): string {
  const { unit, count } = durationUnit(days);
  return `${count} ${pluralEn(count, unit, `${unit}s`)}`;
}

function timeLeft(hours: number): string {
  if (hours >= 48) {
    const days = Math.floor(hours / 24);
    return `${days} ${pluralEn(days, 'day', 'days')}`;
  }
  const whole = Math.max(1, Math.round(hours));
  return `${whole} ${pluralEn(whole, 'hour', 'hours')}`;
}

const reasons: Record<YooKassaReason, string> = {
  '3d_secure_failed': '3-D Secure confirmation (the code from your bank) did not pass',
  call_issuer: 'your bank declined the payment — please call the bank that issued the card',
  canceled_by_merchant: 'the payment was cancelled by the shop',
  card_expired: 'the card has expired',
  country_forbidden: 'cards from this country are not accepted',
  deal_expired: 'the deal has expired',
  expired_on_capture: 'the payment was not confirmed in time',
  expired_on_confirmation: 'the payment was not completed in time',
  fraud_suspected: 'the payment was blocked on suspicion of fraud',
  general_decline: 'your bank declined the payment without giving a reason',
  identification_required: 'the YooMoney wallet needs to be identified',
  insufficient_funds: 'there are not enough funds on the card',
  internal_timeout: 'a technical failure at the payment system',
  invalid_card_number: 'the card number is wrong',
  invalid_csc: 'the CVV2/CVC2 code is wrong',
  issuer_unavailable: 'the bank that issued the card is unavailable right now',
  payment_method_limit_exceeded: 'the card or wallet payment limit is exceeded',
  payment_method_restricted: 'payments with this card or wallet are restricted',
  permission_revoked: 'permission for automatic payments was revoked',
  unsupported_mobile_operator: 'paying from this mobile operator is not supported',
};

const paymentStatuses: Record<string, string> = {
  pending: 'awaiting payment',
  waiting_for_capture: 'awaiting confirmation',
  succeeded: 'paid',
  canceled: 'cancelled',
  failed: 'failed',
  expired: 'expired unpaid',
  refunded: 'refunded',
};

const balanceReasons: Record<string, string> = {
  topup: 'top-up',
  purchase: 'subscription payment',
  refund: 'refund',
  cancel_refund: 'refund for a cancellation',
  admin_refund: 'refund by an operator',
  adjustment: 'adjustment',
};

export const en: Messages = {
  buttons: {
    tariffs: '💳 Plans',
    mySubscription: '🔑 My subscription',
    setupGuide: '📲 Setup guide',
    support: '💬 Support',
    menu: '⬅️ Menu',
    back: '⬅️ Back',
    buy: '🛒 Buy a subscription',
    renew: '🔄 Renew',
    retry: '🔁 Try again',
    payCard: '💳 Card (YooKassa)',
    payStars: (stars) => `⭐ Telegram Stars (${stars})`,
    goToPayment: '➡️ Go to payment',
    tariff: (t) => `${t.name} · ${duration(t.durationDays)} · ${formatPrice(t.price, t.currency)}`,
  },
  /** Descriptions in Telegram's command menu (setMyCommands). */
  commands: { start: 'Main menu', help: 'Help and support' },
  menu: {
    welcome: (firstName) =>
      `Hi${firstName ? `, ${h(firstName)}` : ''}! 👋\nHere you can buy a fast VPN and set it up in a couple of minutes.\n\nWhat do you need?`,
    title: 'Main menu. What do you need?',
  },
  errors: {
    tryAgain: '😕 Something went wrong. Please try again in a minute.',
    apiUnavailable:
      '🛠 The service is temporarily unavailable. We are on it — please try again in a few minutes.',
    unknownAction: 'This button is outdated. Open the menu with /start',
    providerDown:
      '🛠 The payment system is unavailable right now. Try again a bit later or choose another payment method.',
    notFound: 'We could not find this plan or payment. Open /start and try again.',
    slowDown: '🐢 Too many messages in a row. Please slow down — the bot answers again once you pause.',
    rateLimited: '⏳ Too many requests. Please wait a minute and try again.',
    purchaseLimit:
      '🧾 You have too many open payments. Finish one of them or wait until they expire, then try again.',
    locationMismatch:
      '📍 Your active subscription is in another location. You can extend it only with a plan of the same location — pick one, or wait until the current subscription ends.',
  },
  tariffs: {
    title: 'Choose a plan:',
    renewTitle: 'Choose a plan to renew — the new days are added to your current subscription:',
    empty: 'No plans are available right now. Please check back later.',
    chooseMethod: (t: TariffText) =>
      `<b>${h(t.name)}</b>\nPeriod: ${duration(t.durationDays)}\nPrice: ${formatPrice(t.price, t.currency)}\n\nHow would you like to pay?`,
    paymentCreated: (p) =>
      `An invoice for ${formatPrice(p.amount, p.currency)} is ready.` +
      (p.expiresAt ? `\nPlease pay before ${date(p.expiresAt)}.` : '') +
      '\n\nTap the button below to open the secure payment page. Your subscription turns on by itself once the payment goes through.',
    invoiceTitle: (t) => `VPN: ${t.name}`.slice(0, 32),
    invoiceDescription: (t) =>
      `VPN subscription for ${duration(t.durationDays)}. Your key arrives right after payment.`,
    invoiceLabel: (t) => t.name,
    invoiceGenericDescription: 'VPN subscription. Your key arrives right after payment.',
  },
  payments: {
    preCheckoutNotPending: 'This invoice is already paid or outdated. Open /start and create a new one.',
    preCheckoutAmountMismatch: 'The invoice amount has changed. Open /start and create a new invoice.',
    preCheckoutOtherUser:
      'This invoice was made for another Telegram account. Open /start and create your own.',
    preCheckoutUnavailable:
      'We could not check the invoice. Please try again in a minute — you have not been charged.',
    starsReceived: '✅ Payment received! Turning on your subscription — the key arrives in a few seconds.',
    starsRefunding:
      '↩️ This invoice had already closed, so the Stars are being returned to you automatically.',
    starsConfirmDelayed:
      '⏳ Payment received, but the confirmation is delayed. The key will arrive automatically; if it does not, contact support.',
  },
  subscription: {
    active: (s) =>
      `✅ <b>Your subscription is active</b>${s.tariffName ? ` (${h(s.tariffName)})` : ''}\n` +
      `Left: ${s.daysRemaining} ${pluralEn(s.daysRemaining, 'day', 'days')}, until ${date(s.endDate)}\n\n` +
      `🔗 Subscription URL (tap to copy):\n<code>${h(s.subscriptionUrl)}</code>\n\n` +
      `🌐 <a href="${h(subscriptionPageUrl(s.subscriptionUrl))}">Subscription page</a>: QR code and one-tap "Add to app"\n\n` +
      `🔑 Key:\n<code>${h(s.vlessUrl)}</code>`,
    qrCaption: 'Your key as a QR code: scan it in your VPN app.',
    notActive: (lastPaymentStatus) =>
      '❌ You have no active subscription.' +
      (lastPaymentStatus
        ? `\nLast payment: ${paymentStatuses[lastPaymentStatus] ?? h(lastPaymentStatus)}.`
        : '') +
      '\n\nGet one — it takes a minute.',
  },
  planChange: {
    button: '🔀 Change plan',
    list: (p) =>
      `🔀 <b>Change plan</b>\n\nThe unused part of your subscription is worth <b>${formatPrice(p.credit, p.currency)}</b> — it counts towards the new plan's price (in proportion to the time left${p.endDate ? `, until ${date(p.endDate)}` : ''}).\n\n` +
      'A dearer or longer plan starts at once and you pay the difference. A cheaper or shorter one starts at the next renewal.',
    pending: (p) =>
      p.kind === 'downgrade'
        ? `\n\n⏳ Switching to “${h(p.tariffName)}”${p.effectiveAt ? ` from ${date(p.effectiveAt)}` : ''} (at renewal).`
        : `\n\n⏳ The change to “${h(p.tariffName)}” waits for its payment.`,
    option: (p) =>
      p.kind === 'upgrade'
        ? `⬆️ ${p.name} · pay ${formatPrice(p.amount, p.currency)}`
        : `⬇️ ${p.name} · ${formatPrice(p.price, p.currency)} from the next renewal`,
    keep: (name) => `↩️ Stay on “${name}”`,
    none: 'There are no other plans to change to right now.',
    pay: (p) =>
      `Credited ${formatPrice(p.credit, p.currency)}. To pay: <b>${formatPrice(p.amount, p.currency)}</b>.\nOnce paid, the new plan starts at once; your key stays the same.`,
    applied: (p) =>
      `✅ Plan changed: nothing to pay, your credit covered it.${p.endDate ? ` Your subscription runs until ${date(p.endDate)}.` : ''} Same key.` +
      (Number(p.balanceCredited) > 0
        ? `\nThe remaining ${formatPrice(p.balanceCredited, p.currency)} went to your balance.`
        : ''),
    applying: '⏳ Your plan is being changed; this takes a few seconds. Same key.',
    scheduled: (p) =>
      `🗓 Change scheduled: the new plan starts at your next renewal${p.effectiveAt ? ` (${date(p.effectiveAt)})` : ''}. Until then nothing changes.`,
    canceled: 'The scheduled plan change is called off: you stay on your current plan.',
    refusal: (code) =>
      ({
        change_pending: 'A plan change is already waiting for its payment. Pay it or let the bill expire.',
        same_tariff: 'This is your current plan.',
        location_mismatch:
          'A cheaper plan in another location can be bought once your current subscription ends.',
        no_active_subscription: 'You have no active subscription — just buy a plan.',
        insufficient_balance: 'Your balance does not cover it.',
      })[code] ?? null,
  },
  guides: {
    chooseOs: 'Which device will you connect from?',
    osNames: {
      ios: '🍏 iPhone / iPad',
      android: '🤖 Android',
      windows: '🪟 Windows',
      macos: '💻 macOS',
      linux: '🐧 Linux',
    } satisfies Record<GuideOs, string>,
    download: (app) => `⬇️ ${app}`,
    steps: {
      ios:
        '<b>iPhone / iPad</b>\n1. Install <b>Streisand</b>, <b>Hiddify</b> or <b>V2Box</b> from the App Store.\n' +
        '2. In the bot open "My subscription" and tap the subscription URL — it is copied.\n' +
        '3. Streisand: "+" → "Add from clipboard". Hiddify: "New profile" → "Add from clipboard". V2Box: Configs → "+" → "Import v2ray uri from clipboard".\n' +
        '4. Turn the connection on and allow adding the VPN configuration.',
      android:
        '<b>Android</b>\n1. Install <b>v2rayNG</b> or <b>Hiddify</b> (Google Play or GitHub).\n' +
        '2. Copy the subscription URL from "My subscription".\n' +
        '3. v2rayNG: ☰ → "Subscription group setting" → "+" → paste the URL → ⋮ → "Update subscription". Hiddify: "+" → "Add from clipboard".\n' +
        '4. Tap the connect button and allow the VPN.',
      windows:
        '<b>Windows</b>\n1. Download <b>v2rayN</b> or <b>Hiddify</b>.\n' +
        '2. Copy the subscription URL from "My subscription".\n' +
        '3. v2rayN: "Subscription group" → "Subscription group settings" → "Add" → paste the URL → "Update subscriptions". Hiddify: "New profile" → "Add from clipboard".\n' +
        '4. Turn on the system proxy or VPN (TUN) mode.',
      macos:
        '<b>macOS</b>\n1. Install <b>Hiddify</b> or <b>V2Box</b> (App Store).\n' +
        '2. Copy the subscription URL from "My subscription".\n' +
        '3. Hiddify: "New profile" → "Add from clipboard". V2Box: Configs → "+" → "Import v2ray uri from clipboard".\n' +
        '4. Tap "Connect" and allow adding the VPN configuration.',
      linux:
        '<b>Linux</b>\n1. Download <b>Hiddify</b> (AppImage/deb) or <b>NekoRay</b>.\n' +
        '2. Copy the subscription URL from "My subscription".\n' +
        '3. Hiddify: "New profile" → "Add from clipboard". NekoRay: "Groups" → "New group" → type "Subscription", paste the URL → "Update".\n' +
        '4. Turn on TUN mode or the system proxy.',
    },
  },
  support: {
    text: 'Have a question or something does not work? Message us — we answer as soon as we can.',
    help:
      '<b>How to use the bot</b>\n/start — main menu\n"💳 Plans" — buy or renew a subscription\n' +
      '"🔑 My subscription" — your key, subscription URL and QR code\n"📲 Setup guide" — steps for iOS, Android, Windows, macOS and Linux\n\n' +
      'If something does not work, contact support.',
  },
  admin: {
    title: '🛠 Admin panel',
    stats: '📊 Stats',
    stuck: '⏳ Stuck purchases',
    nodes: '🖥 Nodes',
    findUser: '🔎 Find user',
    findUserHint: 'Send <code>/user 123456789</code> or <code>/user @username</code>.',
    notConfigured: 'ADMIN_READ_TOKEN is not set for the bot: the admin screens are unavailable.',
    userNotFound: 'User not found.',
    stuckEmpty: 'No stuck purchases. 👌',
    nodesEmpty: 'No nodes yet.',
    labels: {
      users: 'Users',
      total_users: 'Users',
      new_users_today: 'New today',
      active_subscriptions: 'Active subscriptions',
      revenue_today: 'Revenue today',
      revenue_month: 'Revenue this month',
      conversion: 'Conversion',
      payments_today: 'Payments today',
    },
  },
  adminUser: {
    extend7: '➕ 7 days',
    extend30: '➕ 30 days',
    resend: '🔑 Resend key',
    revoke: '⛔ Revoke access',
    block: '🚫 Block',
    unblock: '✅ Unblock',
    timeline: '📜 Timeline',
    back: '⬅️ Back to user',
    confirmRevoke: (tg: string) =>
      `Revoke the access of <code>${tg}</code> now? The client is removed from its node.`,
    confirmBlock: (tg: string) =>
      `Block <code>${tg}</code>? They cannot buy any more and their access is revoked now.`,
    yes: 'Yes, do it',
    done: (action: string) => `✅ Done: <b>${action}</b> (recorded in the audit)`,
    refused: (action: string, reason: string) => `⚠️ Not done: <b>${action}</b> — ${reason}`,
    notConfigured: 'ADMIN_BOT_TOKEN is not set for the bot: actions are unavailable, view only.',
    timelineTitle: (tg: string) => `<b>Timeline of ${tg}</b>`,
    timelineEmpty: 'Nothing yet.',
  },
  notifications: {
    activation: (p) =>
      `🎉 <b>Your subscription is active until ${date(p.expiresAt)}</b>\n\n` +
      `🔗 Subscription URL (tap to copy):\n<code>${h(p.subscriptionUrl)}</code>\n\n` +
      `🌐 <a href="${h(subscriptionPageUrl(p.subscriptionUrl))}">Subscription page</a>: QR code and one-tap "Add to app"\n\n` +
      `🔑 Key:\n<code>${h(p.vlessUrl)}</code>\n\nNot sure what to do with it? Tap "Setup guide".`,
    activationQrCaption: 'Your key as a QR code: scan it in your VPN app.',
    nodeMovedKey: (p) =>
      `🔁 <b>Your server was replaced</b>: your access moved to another server in the same region.\n\n` +
      `🔑 Your new key (the old one no longer works):\n<code>${h(p.vlessUrl)}</code>\n\n` +
      `Or connect with the subscription URL, which updates itself:\n<code>${h(p.subscriptionUrl)}</code>`,
    nodeMovedSubscription:
      '🔁 <b>Your server was replaced</b>: your access moved to another server in the same region. Nothing to do: your app updates the subscription by itself.',
    paymentFailed: (p) =>
      `❌ The payment failed: ${reasons[p.reason as YooKassaReason] ?? 'the payment was declined'}.\n\n` +
      'You have not been charged. You can try again — with another card or later.',
    paymentExpired:
      '⌛ The time to pay ran out and the invoice was cancelled. If you still need a subscription, create a new invoice.',
    reminder: (p) =>
      `⏰ Your subscription ends in ${timeLeft(p.hoursLeft)} (${date(p.expiresAt)}). Renew it so your VPN keeps working.`,
    expired: '🔒 Your subscription has ended and VPN access is off. Buy a new one to get a fresh key.',
    refundDone: (p) =>
      `↩️ Your refund of ${formatPrice(p.amount, p.currency)} is done. The money goes back the way you paid.`,
    renewed: (p) =>
      `✅ Your subscription is extended until ${date(p.expiresAt)}. Your key and subscription URL stay the same.`,
  },
  // Referrals and gifts (issue 14).
  referralGift: {
    inviteButton: '🎁 Invite a friend',
    giftButton: '🎁 Buy as a gift',
    referralScreen: (r) =>
      `<b>Invite your friends</b>\n\nFor every friend who pays for a subscription you get ${duration(r.bonusDays)} of VPN for free.\n\n` +
      `🔗 Your link (tap to copy):\n<code>${h(r.link)}</code>\n\n` +
      `Invited: ${r.invited}\nPaid: ${r.rewarded}\nDays earned: ${r.bonusDaysEarned}`,
    bonusGranted: (p) =>
      `🎉 Your friend paid for a subscription — you got ${duration(p.days)}. Your access runs until ${date(p.expiresAt)}.`,
    welcomeGranted: (p) =>
      `🎁 You came by invitation — here are ${duration(p.days)} on us. Your access runs until ${date(p.expiresAt)}.`,
    giftChooseTariff:
      'Choose a plan to give. After payment you get a link — forward it to the person you give it to:',
    giftLink: (g) =>
      `🎁 <b>Your gift is ready: ${h(g.tariffName)}</b>\n\nForward this link to the person you give it to:\n` +
      (g.link ? `<code>${h(g.link)}</code>` : `<code>/start gift_${h(g.code)}</code>`) +
      `\n\nIt can be claimed until ${date(g.claimUntil)}. If nobody claims it, your money comes back automatically.`,
    giftClaimedForBuyer: '🎉 Your gift has been claimed. Thank you!',
    giftReceived: (p) =>
      `🎁 Gift claimed! Your access runs until ${date(p.expiresAt)}. The key is in the message above and under "My subscription".`,
    giftAlreadyClaimed: '😕 This gift has already been claimed by someone else.',
    giftOwn: '🙂 This is your own gift — forward the link to the person you give it to.',
    giftExpired: '⌛ This gift can no longer be claimed: its time ran out.',
    giftUnknown: '😕 Gift not found. Please check the link.',
    myGiftsButton: '🎁 My gifts',
    myGiftsEmpty: 'You have not given any gifts yet. Choose a plan and tap “🎁 Buy as a gift”.',
    myGiftsTitle: (n) => `<b>Your gifts</b> (${n})`,
    myGift: (g) => {
      const states: Record<string, string> = {
        unclaimed: `not claimed yet, until ${date(g.claimUntil)}`,
        claimed: `claimed${g.claimedAt ? ` ${date(g.claimedAt)}` : ''}`,
        refunding: 'not claimed: the refund is on its way',
        refunded: 'not claimed: refunded',
      };
      const link = g.link ? `\n  <code>${h(g.link)}</code>` : '';
      return `• ${h(g.tariffName)} — ${states[g.status] ?? h(g.status)}${link}`;
    },
  },
  balance: {
    toppedUp: (p) =>
      `💰 Your balance was topped up by ${formatPrice(p.amount, p.currency)}. It is now ${formatPrice(p.balance, p.currency)}.`,
    screen: (p) =>
      `💰 <b>Balance: ${formatPrice(p.balance, p.currency)}</b>\n\nYou can pay for a subscription from it in one tap.`,
    entriesTitle: 'Latest entries:',
    entry: (p) =>
      `${date(p.createdAt)} · ${p.amount.startsWith('-') ? '' : '+'}${formatPrice(p.amount, p.currency)} · ${balanceReasons[p.reason] ?? h(p.reason)}`,
    noEntries: 'No entries yet.',
    topUpButton: '➕ Top up',
    topUpPrompt: 'How much would you like to add? You pay by card.',
    topUpLink: (p) =>
      `Top-up of ${formatPrice(p.amount, p.currency)}: pay with the button below. The money is on your balance as soon as it is paid.`,
    payFromBalance: (p) => `💰 From balance (${formatPrice(p.balance, p.currency)})`,
    insufficient: 'Your balance does not cover this tariff. Top it up or pay by card.',
    paidFromBalance: 'Paid from your balance. Your key follows in the next message.',
  },
  autoRenew: {
    consent:
      '🔁 <b>Auto-renew</b>\n\nIf you turn it on, YooKassa keeps your card and we renew your subscription a day before it ends: from your balance if it covers the price, otherwise from the card — the same plan at the same price. We never store your card number. You can turn it off at any time in "My subscription".',
    withAutoRenew: '💳 Pay and turn on auto-renew',
    withoutAutoRenew: '💳 Pay without auto-renew',
    statusLine: (p) =>
      p.enabled
        ? `🔁 Auto-renew: on${p.nextChargeAt ? `, next charge ${date(p.nextChargeAt)}` : ''}${p.method === 'card' ? ' (card)' : p.method === 'balance' ? ' (balance)' : p.method === 'stars' ? ' (Telegram Stars)' : ''}`
        : '🔁 Auto-renew: off',
    turnOn: '🔁 Turn on auto-renew',
    turnOff: '⏹ Turn off auto-renew',
    turnedOn: '🔁 Auto-renew is on.',
    turnedOff:
      '⏹ Auto-renew is off: nothing more will be charged. Your access runs to the end of the paid period.',
    renewed: (p) =>
      `🔁 Your subscription was renewed automatically until ${date(p.expiresAt)}. Your key and subscription URL stay the same.`,
    failed: (p) =>
      `⚠️ We could not renew your subscription automatically. We will try again, but your access ends ${date(p.expiresAt)} if no payment goes through. You can pay now:`,
    payNow: '💳 Pay now',
  },
  duration,
  growth: {
    trialOffer: (days) =>
      `🎁 Try it free: ${days} ${pluralEn(days, 'day', 'days')} of VPN with no payment. The key arrives at once.`,
    trialButton: '🎁 Try for free',
    trialStarted: (end) =>
      `🎁 Your trial runs until ${date(end)}. The key and QR code follow in the next message.`,
    trialUsed: 'The free trial has been used already: there is one per user. Choose a plan to continue.',
    trialsOff: 'The free trial is not available right now.',
    adminCodesTitle: (n) => `<b>🎟 Promo codes</b> (${n})`,
    adminNoCodes:
      'No promo codes yet. Create one: /newcode CODE percent|amount|days VALUE [MAX_USES] [UNTIL YYYY-MM-DD]',
    adminNewCodeUsage:
      'Create a code: <code>/newcode CODE percent|amount|days VALUE [MAX_USES] [UNTIL YYYY-MM-DD]</code>\n' +
      'e.g. <code>/newcode SPRING20 percent 20 100 2027-04-30</code>',
    adminCodeCreated: (line) => `✅ Code created:\n\n${line}`,
    adminCodeRefused: (why) => `❌ The code was not created: ${h(why)}`,
    adminCodeLine: (c) =>
      `<code>${h(c.code)}</code> · ${c.kind === 'percent' ? `${Number(c.value)} %` : c.kind === 'amount' ? `${c.value} RUB off` : `+${Number(c.value)} days`}${c.active ? '' : ' · off'}\n` +
      `Activations: ${c.activations}${c.maxUses ? ` / ${c.maxUses}` : ''} · users: ${c.users}\n` +
      `Revenue: ${c.revenue} RUB${c.revenueStars ? ` + ${c.revenueStars} ⭐` : ''} · discount given: ${c.discount} RUB`,
    trialReminder: (p) =>
      `⏰ Your free trial ends in ${timeLeft(p.hoursLeft)} (${date(p.expiresAt)}). Pick a plan — one tap, and the same key keeps working:`,
    trialEnded: '🔒 Your free trial has ended and VPN access is off. Pick a plan to continue:',
    trialActive: (end) =>
      `🎁 You are on the free trial until ${date(end)}. Buy a plan any time: the key stays the same and the paid period is added to the trial's end.`,
    promoButton: '🎟 Promo code',
    promoAsk: '🎟 Send your promo code as a reply to this message.',
    promoDaysAdded: (days) =>
      `🎉 Code accepted: +${days} ${pluralEn(days, 'day', 'days')} of access. Details follow by message.`,
    promoDiscount: (value, kind) =>
      `🎟 Code accepted: ${kind === 'percent' ? `${Number(value)} %` : `${value} RUB`} off. Choose a plan — the price includes the discount:`,
    promoFree: '🎉 The code covers the whole price: nothing to pay. Your key follows in the next message.',
    promoRefusal: (code) =>
      ({
        promo_not_found: 'There is no such promo code. Check the spelling.',
        promo_expired: 'This promo code has expired.',
        promo_not_started: 'This promo code is not valid yet.',
        promo_used: 'You have used this promo code already.',
        promo_exhausted: 'This promo code has been used up.',
        promo_wrong_tariff: 'This promo code is not valid for this plan.',
        promo_first_purchase_only: 'This promo code is for a first purchase only.',
        amount_below_minimum: 'With this code the price is below the minimum payment. Choose another plan.',
        promo_not_a_discount: 'This code adds days rather than a discount: send it through “🎟 Promo code”.',
      })[code] ?? 'The promo code did not work.',
  },
  paymentStatus: (status) => paymentStatuses[status] ?? h(status),
  failureReason: (reason) => reasons[reason as YooKassaReason] ?? 'the payment was declined',
  // helper botmoney (issue 13 bot screens, issue 16 admin refund): balance, top-up, cancel, admin refund.
  botMoney: {
    balanceButton: '💰 Balance',
    topUpPreset: (amount) => `+ ${formatPrice(amount, 'RUB')}`,
    topUpOther: '✏️ Other amount',
    topUpAsk: '✏️ Type the top-up amount in RUB, from 10 to 100 000 (e.g. 250), as a reply to this message.',
    topUpNotANumber: 'That is not an amount. Type a number such as 250 or 99.50.',
    topUpOutOfRange: (p) => `A top-up is from ${formatPrice(p.min, 'RUB')} to ${formatPrice(p.max, 'RUB')}.`,
    topUpRefused: (why) => `The top-up was not created: ${h(why)}`,
    topUpStarsPreset: (amount) => `⭐ + ${formatPrice(amount, 'RUB')}`,
    topUpPromptStars: 'How much would you like to add? By card, or with Telegram Stars (⭐ buttons).',
    starsTopUpInvoice: (p) => ({
      title: `Balance + ${formatPrice(p.amount, 'RUB')}`.slice(0, 32),
      description: `Adds ${formatPrice(p.amount, 'RUB')} to your VPN balance as soon as it is paid.`,
      label: `Balance + ${formatPrice(p.amount, 'RUB')}`,
    }),
    insufficientTopUp: (p) =>
      `💰 Your balance is ${formatPrice(p.balance, p.currency)} and this plan costs ${formatPrice(p.price, p.currency)}: insufficient balance. Top up?`,
    cancelButton: '✖️ Cancel subscription',
    cancelRefundPreview: (p) =>
      `✖️ <b>Cancel subscription</b>\n\nYour access ends now and the key stops working. You get back <b>${formatPrice(p.amount, p.currency)}</b> for the unused time, ${p.toBalance ? 'to your balance' : 'the way you paid'}.\n\nCancel?`,
    cancelStopPreview: (p) =>
      `✖️ <b>Cancel subscription</b>\n\nThe refund window has passed, so there is no refund. Auto-renew stops, nothing more is charged, and your access runs to ${date(p.endDate)}.\n\nTurn off auto-renew?`,
    cancelNothingToStop: (p) =>
      `Auto-renew is already off: nothing more will be charged. Your access runs to ${date(p.endDate)}; a refund is no longer available.`,
    cancelYesRefund: '✅ Cancel and refund',
    cancelYesStop: '⏹ Turn off auto-renew',
    cancelKeep: '↩️ Keep my subscription',
    canceledRefunded: (p) =>
      `✅ Subscription cancelled; the key no longer works. Refunded: <b>${formatPrice(p.amount, p.currency)}</b>.`,
    canceledKept: (p) =>
      `⏹ Auto-renew is off: nothing more will be charged.${p.endDate ? ` Your access runs to ${date(p.endDate)}.` : ''}`,
    cancelInProgress:
      '⏳ The cancellation is accepted and still running. Open “My subscription” in a minute.',
    cancelWindowPassed:
      'A refund is no longer available: the refund window has passed. You can turn off auto-renew; the access runs to its end.',
    noActiveToCancel: 'You have no active subscription to cancel.',
    refundButton: '💸 Refund',
    refundListTitle: (tg) => `<b>Refund a payment</b> of <code>${tg}</code>: choose the payment.`,
    refundNone: 'No payment can be refunded.',
    refundLine: (p) => `${formatPrice(p.amount, p.currency)} · ${p.provider} · ${p.purpose} · ${date(p.at)}`,
    refundPayment: (p) =>
      `<b>Payment</b> <code>${h(p.paymentId)}</code>\n${h(p.provider)} · ${h(p.purpose)}\nPaid: ${formatPrice(p.amount, p.currency)}\nRefunded so far: ${formatPrice(p.refunded, p.currency)}\nLeft to refund: <b>${formatPrice(p.left, p.currency)}</b>\n\nRefund to where?`,
    refundToProvider: '↩️ The way it was paid (card / Stars)',
    refundToBalance: '💰 To the balance',
    refundAsk: (p) =>
      `💸 Refund up to ${formatPrice(p.left, p.currency)} ${p.toBalance ? 'to the balance' : 'the way it was paid'}.\nReply to this message with the reason (full refund), or an amount and the reason (partial), e.g. <code>50 double charge</code>\n\n<code>${h(p.tag)}</code>`,
    refundBadInput: (why) => `⚠️ ${h(why)}. Reply to the prompt again.`,
    refundNeedReason: 'A reason is required: it goes into the audit trail',
    refundBadAmount: (left, currency) =>
      `The amount must be above zero and at most ${formatPrice(left, currency)}`,
    refundConfirm: (p) =>
      `Refund <b>${formatPrice(p.amount, p.currency)}</b> ${p.toBalance ? 'to the balance' : 'the way it was paid'} for payment <code>${h(p.paymentId)}</code> of <code>${h(p.tg)}</code>?\nReason:\n📝 ${h(p.reason)}`,
    refundYes: '✅ Refund',
    refundDone: (p) =>
      `✅ Refund of ${formatPrice(p.amount, p.currency)} ${p.toBalance ? 'to the balance' : 'the way it was paid'}: ${p.pending ? 'booked, the provider has not answered yet (retried until it does)' : 'done'}.${p.accessUntil ? ` The access now runs to ${date(p.accessUntil)}.` : ''} (Recorded in the audit.)`,
    refundRefused: (why) => `⚠️ Refund not done — ${why}`,
  },
  // botops (issue 16 broadcasts, issue 12 drains): the admin's broadcast and node screens.
  adminOps: {
    broadcasts: '📣 Broadcasts',
    broadcastsTitle: (n) => `<b>📣 Broadcasts</b> (latest ${n})`,
    broadcastsEmpty: 'No broadcasts yet.',
    newBroadcast: '➕ New broadcast',
    askMessage:
      '✍️ Send the broadcast as one message (HTML: <code>&lt;b&gt;</code>, <code>&lt;i&gt;</code>, <code>&lt;a href&gt;</code>) or formatted with Telegram’s editor.\n\n' +
      'A picture: a first line <code>photo: https://…</code> (the API takes photos by URL).\n' +
      'Buttons: last lines, one each: <code>Label | https://link</code>.\n\n' +
      'The draft lives in the bot’s memory: after a bot restart it must be entered again.',
    badMessage: (reason) => `⚠️ Message not accepted: ${reason}\n\nSend it again.`,
    messageReasons: {
      empty: 'there is no text',
      too_long: 'the text is over 4096 characters',
      caption_too_long: 'a picture’s caption is over 1024 characters',
      bad_photo: 'the picture link must start with https://',
      too_many_buttons: 'more than 10 buttons',
      bad_button: 'a button label is empty or over 64 characters',
    },
    audienceTitle: (summary, buttons, photo) =>
      `<b>Who gets it?</b>\nNow: ${summary}\nButtons: ${buttons}${photo ? ' · with a picture' : ''}`,
    segments: {
      all: 'everyone',
      active: 'with an active subscription',
      expired: 'subscription ended',
      trial: 'trial only',
      never_paid: 'never paid',
    },
    expiredDays: (d) => `ended within ${d} days`,
    segAll: 'All',
    segActive: 'Active',
    segTrial: 'Trial',
    segNeverPaid: 'Never paid',
    segExpired: (d) => `Expired ≤${d}d`,
    language: (l) => `🌐 Language: ${l ?? 'any'}`,
    location: (l) => `📍 Location: ${l ?? 'any'}`,
    anyLanguage: 'language',
    anyLocation: 'location',
    ids: (n) => (n ? `🧾 Id list (${n}): replace` : '🧾 Paste a list of ids'),
    clearIds: '✖️ Drop the id list',
    askIds: '🧾 Send the recipients’ telegram ids: separated by spaces, commas or new lines (up to 100,000).',
    badIds: (bad) => `⚠️ Not a telegram id: <code>${bad}</code>. Send the list again.`,
    idsSummary: (n) => `a list of ${n} ids`,
    preview: '👁 Preview and count',
    drop: '🗑 Discard the draft',
    dropped: 'Draft discarded.',
    noDraft: 'No draft (the bot restarted, or the broadcast has started already). Start again.',
    previewFailed: (reason) =>
      `⚠️ Telegram refused the message: ${reason}\nFix the HTML and send the text again.`,
    confirm: (n) => `Above: the message as users will get it.\n<b>Recipients: ${n}</b>. Send it?`,
    confirmNone: 'No user matches this audience.',
    send: (n) => `✅ Send to ${n}`,
    changeAudience: '⬅️ Change the audience',
    refused: (reason) => `⚠️ The API refused: ${reason}`,
    states: {
      running: '▶️ running',
      paused: '⏸ paused',
      canceled: '⏹ canceled',
      completed: '✅ completed',
    },
    progress: (p) =>
      `<b>Broadcast</b> <code>${p.id}</code>\nState: ${p.state}\n` +
      `Total: <b>${p.total}</b> · sent: <b>${p.sent}</b> · failed: <b>${p.failed}</b> · ` +
      `blocked the bot: <b>${p.blocked}</b> · pending: <b>${p.pending}</b>\n<i>as of ${p.asOf} UTC</i>`,
    refresh: '🔄 Refresh',
    pause: '⏸ Pause',
    resume: '▶️ Resume',
    cancel: '⏹ Cancel',
    confirmCancel: 'Cancel the broadcast? Nobody else gets it; the counts stay.',
    yesCancel: 'Yes, cancel it',
    back: '⬅️ Back',
    nodesTitle: (n) => `<b>🖥 Nodes</b> (${n})`,
    nodeLine: (n) => `• <b>${n.name}</b> · ${n.location} · ${n.status} · ${n.active}/${n.capacity}`,
    nodeCard: (n) =>
      `<b>🖥 ${n.name}</b>\nLocation: ${n.location}\nStatus: <b>${n.status}</b>\n` +
      `Subscriptions: <b>${n.active}</b> of ${n.capacity} · clients on the node: ${n.clients}` +
      (n.lastError ? `\nLast error: ${n.lastError}` : '') +
      `\n<i>as of ${n.asOf} UTC</i>`,
    drainLine: (d) =>
      `\n\n<b>Drain</b>: ${d.state}\nmoved: <b>${d.moved}</b> · remaining: <b>${d.remaining}</b> · failed: <b>${d.failed}</b>`,
    enable: '✅ Enable',
    disable: '⛔ Disable',
    drain: '🚚 Drain',
    confirmDrain: (name, active) =>
      `Drain <b>${name}</b>? It leaves node selection, its ${active} subscriptions move to other nodes of the same location (each user is told), then it is disabled.`,
    yesDrain: 'Yes, drain it',
    nodes: '⬅️ Nodes',
    nodeNotFound: 'Node not found.',
    done: (what) => `✅ Done: <b>${what}</b> (recorded in the audit)`,
  },
  // stars (issue 13): Stars subscriptions
  starsSubscription: {
    consent: (stars) =>
      `⭐ Or as a Telegram Stars subscription: Telegram itself charges ${stars} ⭐ every 30 days until you cancel it — in "My subscription" (auto-renew) or in Telegram's settings.`,
    subscribe: (stars) => `⭐ Stars subscription: ${stars} ⭐ / 30 days`,
    invoice: (stars) =>
      `⭐ Telegram Stars subscription: ${stars} ⭐ every 30 days until you cancel. Tap to pay in Telegram:`,
    payButton: (stars) => `Pay ${stars} ⭐`,
  },
};
