import { subscriptionPageUrl } from '../subscription/page-url';
import {
  durationUnit,
  escapeHtml as h,
  formatDateTime,
  formatPrice,
  pluralRu,
  type YooKassaReason,
} from './format';

/** Everything the bot and the notifications say in Russian (the default language). Texts are Telegram HTML. */

export type GuideOs = 'ios' | 'android' | 'windows' | 'macos' | 'linux';

export interface TariffText {
  name: string;
  durationDays: number;
  price: string | number;
  currency: string;
}

const date = (d: Date | string) => formatDateTime(d, 'ru-RU');

function duration(days: number): string {
  const { unit, count } = durationUnit(days);
  if (unit === 'day') return `${count} ${pluralRu(count, ['день', 'дня', 'дней'])}`;
  if (unit === 'hour') return `${count} ${pluralRu(count, ['час', 'часа', 'часов'])}`;
  return `${count} ${pluralRu(count, ['минута', 'минуты', 'минут'])}`;
}

function timeLeft(hours: number): string {
  if (hours >= 48) {
    const days = Math.floor(hours / 24);
    return `${days} ${pluralRu(days, ['день', 'дня', 'дней'])}`;
  }
  const whole = Math.max(1, Math.round(hours));
  return `${whole} ${pluralRu(whole, ['час', 'часа', 'часов'])}`;
}

const reasons: Record<YooKassaReason, string> = {
  '3d_secure_failed': 'не пройдено подтверждение 3-D Secure (код из SMS или приложения банка)',
  call_issuer: 'банк отклонил платёж — позвоните в банк, выпустивший карту',
  canceled_by_merchant: 'платёж отменён магазином',
  card_expired: 'истёк срок действия карты',
  country_forbidden: 'карты этой страны не принимаются',
  deal_expired: 'истёк срок сделки',
  expired_on_capture: 'платёж не был подтверждён вовремя',
  expired_on_confirmation: 'вы не завершили оплату вовремя',
  fraud_suspected: 'платёж заблокирован из-за подозрения в мошенничестве',
  general_decline: 'банк отклонил платёж без объяснения причин',
  identification_required: 'кошелёк ЮMoney нужно идентифицировать',
  insufficient_funds: 'на карте недостаточно средств',
  internal_timeout: 'технический сбой на стороне платёжной системы',
  invalid_card_number: 'неверный номер карты',
  invalid_csc: 'неверный код CVV2/CVC2',
  issuer_unavailable: 'банк, выпустивший карту, сейчас недоступен',
  payment_method_limit_exceeded: 'превышен лимит платежей по карте или кошельку',
  payment_method_restricted: 'операции по этой карте или кошельку запрещены',
  permission_revoked: 'разрешение на автоплатежи отозвано',
  unsupported_mobile_operator: 'оплата с телефона этого оператора не поддерживается',
};

const paymentStatuses: Record<string, string> = {
  pending: 'ожидает оплаты',
  waiting_for_capture: 'ожидает подтверждения',
  succeeded: 'оплачен',
  canceled: 'отменён',
  failed: 'не прошёл',
  expired: 'истёк срок оплаты',
  refunded: 'возвращён',
};

const balanceReasons: Record<string, string> = {
  topup: 'пополнение',
  purchase: 'оплата подписки',
  refund: 'возврат',
  cancel_refund: 'возврат за отмену',
  admin_refund: 'возврат оператором',
  adjustment: 'корректировка',
};

export const ru = {
  buttons: {
    tariffs: '💳 Тарифы',
    mySubscription: '🔑 Моя подписка',
    setupGuide: '📲 Как подключиться',
    support: '💬 Поддержка',
    menu: '⬅️ Меню',
    back: '⬅️ Назад',
    buy: '🛒 Купить подписку',
    renew: '🔄 Продлить',
    retry: '🔁 Попробовать ещё раз',
    payCard: '💳 Картой (ЮKassa)',
    payStars: (stars: number) => `⭐ Telegram Stars (${stars})`,
    goToPayment: '➡️ Перейти к оплате',
    tariff: (t: TariffText) =>
      `${t.name} · ${duration(t.durationDays)} · ${formatPrice(t.price, t.currency)}`,
  },
  /** Descriptions in Telegram's command menu (setMyCommands). */
  commands: { start: 'Главное меню', help: 'Помощь и поддержка' },
  menu: {
    welcome: (firstName?: string) =>
      `Привет${firstName ? `, ${h(firstName)}` : ''}! 👋\nЗдесь можно купить быстрый VPN и подключить его за пару минут.\n\nВыберите, что нужно:`,
    title: 'Главное меню. Выберите, что нужно:',
  },
  errors: {
    tryAgain: '😕 Что-то пошло не так. Попробуйте ещё раз через минуту.',
    apiUnavailable: '🛠 Сервис временно недоступен. Мы уже чиним — попробуйте через несколько минут.',
    unknownAction: 'Эта кнопка устарела. Откройте меню командой /start',
    providerDown:
      '🛠 Платёжная система сейчас недоступна. Попробуйте чуть позже или выберите другой способ оплаты.',
    notFound: 'Не нашли этот тариф или платёж. Откройте /start и попробуйте снова.',
    // Flood control and the API's per-user limits (see README, "Bot: flood control and limits").
    slowDown: '🐢 Слишком много сообщений подряд. Подождите немного — бот ответит, когда вы сделаете паузу.',
    rateLimited: '⏳ Слишком много запросов. Подождите минуту и попробуйте снова.',
    purchaseLimit:
      '🧾 У вас уже слишком много неоплаченных счетов. Оплатите один из них или подождите, пока они истекут, и попробуйте снова.',
    locationMismatch:
      '📍 Ваша подписка сейчас работает в другой локации. Продлить можно только тариф той же локации — выберите его или дождитесь окончания текущей подписки.',
  },
  tariffs: {
    title: 'Выберите тариф:',
    renewTitle: 'Выберите тариф для продления — новые дни добавятся к текущей подписке:',
    empty: 'Сейчас нет доступных тарифов. Загляните чуть позже.',
    chooseMethod: (t: TariffText) =>
      `<b>${h(t.name)}</b>\nСрок: ${duration(t.durationDays)}\nЦена: ${formatPrice(t.price, t.currency)}\n\nКак удобнее оплатить?`,
    paymentCreated: (p: { amount: string | number; currency: string; expiresAt?: string | null }) =>
      `Счёт на ${formatPrice(p.amount, p.currency)} создан.` +
      (p.expiresAt ? `\nОплатите до ${date(p.expiresAt)}.` : '') +
      '\n\nНажмите кнопку ниже — откроется защищённая страница оплаты. Подписка включится сама, как только платёж пройдёт.',
    invoiceTitle: (t: { name: string }) => `VPN: ${t.name}`.slice(0, 32),
    invoiceDescription: (t: TariffText) =>
      `Подписка на VPN на ${duration(t.durationDays)}. Ключ придёт сразу после оплаты.`,
    invoiceLabel: (t: { name: string }) => t.name,
    invoiceGenericDescription: 'Подписка на VPN. Ключ придёт сразу после оплаты.',
  },
  payments: {
    preCheckoutNotPending: 'Этот счёт уже оплачен или устарел. Откройте /start и создайте новый.',
    preCheckoutAmountMismatch: 'Сумма счёта изменилась. Откройте /start и создайте новый счёт.',
    preCheckoutOtherUser: 'Этот счёт выставлен другому аккаунту Telegram. Откройте /start и создайте свой.',
    preCheckoutUnavailable: 'Не удалось проверить счёт. Попробуйте через минуту — деньги не списаны.',
    starsReceived: '✅ Оплата получена! Включаем подписку — ключ придёт через несколько секунд.',
    starsRefunding: '↩️ Этот счёт уже закрыт, поэтому звёзды автоматически возвращаются вам.',
    starsConfirmDelayed:
      '⏳ Оплата получена, но подтверждение задерживается. Ключ придёт автоматически; если нет — напишите в поддержку.',
  },
  subscription: {
    active: (s: {
      tariffName?: string | null;
      daysRemaining: number;
      endDate: string;
      vlessUrl: string;
      subscriptionUrl: string;
    }) =>
      `✅ <b>Подписка активна</b>${s.tariffName ? ` (${h(s.tariffName)})` : ''}\n` +
      `Осталось: ${s.daysRemaining} ${pluralRu(s.daysRemaining, ['день', 'дня', 'дней'])}, до ${date(s.endDate)}\n\n` +
      `🔗 Ссылка-подписка (нажмите, чтобы скопировать):\n<code>${h(s.subscriptionUrl)}</code>\n\n` +
      `🌐 <a href="${h(subscriptionPageUrl(s.subscriptionUrl))}">Страница подписки</a>: QR-код и «Добавить в приложение» в одно касание\n\n` +
      `🔑 Ключ:\n<code>${h(s.vlessUrl)}</code>`,
    qrCaption: 'QR-код ключа: отсканируйте его в приложении VPN.',
    notActive: (lastPaymentStatus?: string | null) =>
      '❌ Активной подписки нет.' +
      (lastPaymentStatus
        ? `\nПоследний платёж: ${paymentStatuses[lastPaymentStatus] ?? h(lastPaymentStatus)}.`
        : '') +
      '\n\nОформите подписку — это займёт минуту.',
  },
  /** Plan change (bot/handlers/plan-change.ts): the list with the credit, and what a tap on a plan leads to. */
  planChange: {
    button: '🔀 Сменить тариф',
    list: (p: { credit: string; currency: string; endDate: string | null }) =>
      `🔀 <b>Смена тарифа</b>\n\nНеиспользованная часть текущей подписки: <b>${formatPrice(p.credit, p.currency)}</b> — она засчитывается в цену нового тарифа (пропорционально оставшемуся времени${p.endDate ? `, до ${date(p.endDate)}` : ''}).\n\n` +
      'Более дорогой или длинный тариф начинает действовать сразу, вы доплачиваете разницу. Более дешёвый или короткий — со следующего продления.',
    pending: (p: { kind: 'upgrade' | 'downgrade'; tariffName: string; effectiveAt: string | null }) =>
      p.kind === 'downgrade'
        ? `\n\n⏳ Запланирован переход на «${h(p.tariffName)}»${p.effectiveAt ? ` с ${date(p.effectiveAt)}` : ''} (при продлении).`
        : `\n\n⏳ Ожидает оплаты переход на «${h(p.tariffName)}».`,
    option: (p: {
      name: string;
      kind: 'upgrade' | 'downgrade';
      amount: string;
      price: string;
      currency: string;
    }) =>
      p.kind === 'upgrade'
        ? `⬆️ ${p.name} · доплата ${formatPrice(p.amount, p.currency)}`
        : `⬇️ ${p.name} · ${formatPrice(p.price, p.currency)} со следующего продления`,
    keep: (name: string) => `↩️ Остаться на «${name}»`,
    none: 'Других тарифов для смены сейчас нет.',
    pay: (p: { amount: string; credit: string; currency: string }) =>
      `Зачтено ${formatPrice(p.credit, p.currency)}. К доплате: <b>${formatPrice(p.amount, p.currency)}</b>.\nПосле оплаты новый тариф начнёт действовать сразу, ключ останется прежним.`,
    applied: (p: { endDate: string | null; balanceCredited: string; currency: string }) =>
      `✅ Тариф сменён: доплачивать ничего не нужно, зачтённой суммы хватило.${p.endDate ? ` Подписка действует до ${date(p.endDate)}.` : ''} Ключ прежний.` +
      (Number(p.balanceCredited) > 0
        ? `\nОстаток ${formatPrice(p.balanceCredited, p.currency)} зачислен на баланс.`
        : ''),
    applying: '⏳ Тариф меняется, это займёт несколько секунд. Ключ прежний.',
    scheduled: (p: { effectiveAt: string | null }) =>
      `🗓 Переход запланирован: новый тариф начнёт действовать при следующем продлении${p.effectiveAt ? ` (${date(p.effectiveAt)})` : ''}. До тех пор всё остаётся как есть.`,
    canceled: 'Запланированная смена тарифа отменена: остаётесь на текущем.',
    refusal: (code: string) =>
      ({
        change_pending:
          'Уже есть смена тарифа, ожидающая оплаты. Оплатите её или дождитесь, пока счёт истечёт.',
        same_tariff: 'Это ваш текущий тариф.',
        location_mismatch:
          'Более дешёвый тариф в другой локации можно купить после окончания текущей подписки.',
        no_active_subscription: 'Активной подписки нет — тариф можно просто купить.',
        insufficient_balance: 'На балансе недостаточно средств.',
      })[code] ?? null,
  },
  guides: {
    chooseOs: 'На каком устройстве будете подключаться?',
    osNames: {
      ios: '🍏 iPhone / iPad',
      android: '🤖 Android',
      windows: '🪟 Windows',
      macos: '💻 macOS',
      linux: '🐧 Linux',
    } satisfies Record<GuideOs, string>,
    download: (app: string) => `⬇️ ${app}`,
    steps: {
      ios:
        '<b>iPhone / iPad</b>\n1. Установите из App Store <b>Streisand</b>, <b>Hiddify</b> или <b>V2Box</b>.\n' +
        '2. В боте откройте «Моя подписка» и нажмите на ссылку-подписку — она скопируется.\n' +
        '3. Streisand: «+» → «Добавить из буфера». Hiddify: «Новый профиль» → «Добавить из буфера обмена». V2Box: Configs → «+» → «Import v2ray uri from clipboard».\n' +
        '4. Включите подключение и разрешите добавить конфигурацию VPN.',
      android:
        '<b>Android</b>\n1. Установите <b>v2rayNG</b> или <b>Hiddify</b> (Google Play или GitHub).\n' +
        '2. Скопируйте ссылку-подписку из «Моя подписка».\n' +
        '3. v2rayNG: ☰ → «Группы подписок» → «+» → вставьте ссылку → ⋮ → «Обновить подписку». Hiddify: «+» → «Добавить из буфера обмена».\n' +
        '4. Нажмите кнопку подключения и разрешите VPN.',
      windows:
        '<b>Windows</b>\n1. Скачайте <b>v2rayN</b> или <b>Hiddify</b>.\n' +
        '2. Скопируйте ссылку-подписку из «Моя подписка».\n' +
        '3. v2rayN: «Подписки» → «Настройки подписок» → «Добавить» → вставьте ссылку → «Обновить подписки». Hiddify: «Новый профиль» → «Добавить из буфера обмена».\n' +
        '4. Включите системный прокси или режим VPN (TUN).',
      macos:
        '<b>macOS</b>\n1. Установите <b>Hiddify</b> или <b>V2Box</b> (App Store).\n' +
        '2. Скопируйте ссылку-подписку из «Моя подписка».\n' +
        '3. Hiddify: «Новый профиль» → «Добавить из буфера обмена». V2Box: Configs → «+» → «Import v2ray uri from clipboard».\n' +
        '4. Нажмите «Подключить» и разрешите добавить конфигурацию VPN.',
      linux:
        '<b>Linux</b>\n1. Скачайте <b>Hiddify</b> (AppImage/deb) или <b>NekoRay</b>.\n' +
        '2. Скопируйте ссылку-подписку из «Моя подписка».\n' +
        '3. Hiddify: «Новый профиль» → «Добавить из буфера обмена». NekoRay: «Группы» → «Новая группа» → тип «Подписка», вставьте ссылку → «Обновить».\n' +
        '4. Включите режим TUN или системный прокси.',
    } satisfies Record<GuideOs, string>,
  },
  support: {
    text: 'Есть вопрос или что-то не работает? Напишите нам — ответим как можно скорее.',
    help:
      '<b>Как пользоваться ботом</b>\n/start — главное меню\n«💳 Тарифы» — купить или продлить подписку\n' +
      '«🔑 Моя подписка» — ключ, ссылка-подписка и QR-код\n«📲 Как подключиться» — инструкции для iOS, Android, Windows, macOS и Linux\n\n' +
      'Если что-то не получается — напишите в поддержку.',
  },
  admin: {
    title: '🛠 Админ-панель',
    stats: '📊 Статистика',
    stuck: '⏳ Зависшие покупки',
    nodes: '🖥 Ноды',
    findUser: '🔎 Найти пользователя',
    findUserHint: 'Отправьте <code>/user 123456789</code> или <code>/user @username</code>.',
    notConfigured: 'ADMIN_READ_TOKEN не задан для бота: админ-экраны недоступны.',
    userNotFound: 'Пользователь не найден.',
    stuckEmpty: 'Зависших покупок нет. 👌',
    nodesEmpty: 'Нод пока нет.',
    labels: {
      users: 'Пользователи',
      total_users: 'Пользователи',
      new_users_today: 'Новых сегодня',
      active_subscriptions: 'Активные подписки',
      revenue_today: 'Выручка сегодня',
      revenue_month: 'Выручка за месяц',
      conversion: 'Конверсия',
      payments_today: 'Платежей сегодня',
    } as Record<string, string>,
  },
  adminUser: {
    extend7: '➕ 7 дней',
    extend30: '➕ 30 дней',
    resend: '🔑 Ключ ещё раз',
    revoke: '⛔ Отозвать доступ',
    block: '🚫 Заблокировать',
    unblock: '✅ Разблокировать',
    timeline: '📜 История',
    back: '⬅️ К пользователю',
    confirmRevoke: (tg: string) =>
      `Отозвать доступ пользователя <code>${tg}</code> сейчас? Клиент будет удалён с ноды.`,
    confirmBlock: (tg: string) =>
      `Заблокировать <code>${tg}</code>? Он не сможет покупать, текущий доступ будет отозван.`,
    yes: 'Да, выполнить',
    done: (action: string) => `✅ Выполнено: <b>${action}</b> (записано в журнал)`,
    refused: (action: string, reason: string) => `⚠️ Не выполнено: <b>${action}</b> — ${reason}`,
    notConfigured: 'ADMIN_BOT_TOKEN не задан для бота: действия недоступны, только просмотр.',
    timelineTitle: (tg: string) => `<b>История ${tg}</b>`,
    timelineEmpty: 'Событий нет.',
  },
  notifications: {
    activation: (p: { expiresAt: Date | string; vlessUrl: string; subscriptionUrl: string }) =>
      `🎉 <b>Подписка активна до ${date(p.expiresAt)}</b>\n\n` +
      `🔗 Ссылка-подписка (нажмите, чтобы скопировать):\n<code>${h(p.subscriptionUrl)}</code>\n\n` +
      `🌐 <a href="${h(subscriptionPageUrl(p.subscriptionUrl))}">Страница подписки</a>: QR-код и «Добавить в приложение» в одно касание\n\n` +
      `🔑 Ключ:\n<code>${h(p.vlessUrl)}</code>\n\nНе знаете, что с этим делать? Нажмите «Как подключиться».`,
    activationQrCaption: 'QR-код ключа: отсканируйте его в приложении VPN.',
    // A drain moved the access to another server (workflows/drain.ts): the key changed, the subscription URL did not.
    nodeMovedKey: (p: { vlessUrl: string; subscriptionUrl: string }) =>
      `🔁 <b>Ваш сервер заменён</b>: доступ перенесён на другой сервер того же региона.\n\n` +
      `🔑 Новый ключ (старый больше не работает):\n<code>${h(p.vlessUrl)}</code>\n\n` +
      `Или подключитесь по ссылке-подписке, она обновляется сама:\n<code>${h(p.subscriptionUrl)}</code>`,
    nodeMovedSubscription:
      '🔁 <b>Ваш сервер заменён</b>: доступ перенесён на другой сервер того же региона. Ничего делать не нужно — приложение само обновит подписку.',
    paymentFailed: (p: { reason?: string | null }) =>
      `❌ Платёж не прошёл: ${reasons[p.reason as YooKassaReason] ?? 'платёж отклонён'}.\n\n` +
      'Деньги не списаны. Можно попробовать ещё раз — другой картой или позже.',
    paymentExpired:
      '⌛ Время на оплату истекло, счёт отменён. Если подписка ещё нужна — создайте новый счёт.',
    reminder: (p: { hoursLeft: number; expiresAt: Date | string }) =>
      `⏰ Подписка закончится через ${timeLeft(p.hoursLeft)} (${date(p.expiresAt)}). Продлите её, чтобы VPN не отключился.`,
    expired: '🔒 Подписка закончилась, доступ к VPN отключён. Оформите новую — вы получите новый ключ.',
    refundDone: (p: { amount: string | number; currency: string }) =>
      `↩️ Возврат ${formatPrice(p.amount, p.currency)} выполнен. Деньги вернутся тем же способом, которым вы платили.`,
    renewed: (p: { expiresAt: Date | string }) =>
      `✅ Подписка продлена до ${date(p.expiresAt)}. Ключ и ссылка-подписка прежние.`,
  },
  // Referrals and gifts (issue 14).
  referralGift: {
    inviteButton: '🎁 Пригласить друга',
    giftButton: '🎁 Купить в подарок',
    referralScreen: (r: {
      link: string;
      invited: number;
      rewarded: number;
      bonusDaysEarned: number;
      bonusDays: number;
    }) =>
      `<b>Приглашайте друзей</b>\n\nЗа каждого друга, который оплатит подписку, вы получите ${duration(r.bonusDays)} VPN в подарок.\n\n` +
      `🔗 Ваша ссылка (нажмите, чтобы скопировать):\n<code>${h(r.link)}</code>\n\n` +
      `Приглашено: ${r.invited}\nОплатили: ${r.rewarded}\nПолучено дней: ${r.bonusDaysEarned}`,
    bonusGranted: (p: { days: number; expiresAt: Date | string }) =>
      `🎉 Ваш друг оплатил подписку — вам начислено ${duration(p.days)}. Доступ действует до ${date(p.expiresAt)}.`,
    welcomeGranted: (p: { days: number; expiresAt: Date | string }) =>
      `🎁 Вы пришли по приглашению — дарим ${duration(p.days)}. Доступ действует до ${date(p.expiresAt)}.`,
    giftChooseTariff:
      'Выберите тариф в подарок. После оплаты вы получите ссылку — перешлите её тому, кому дарите:',
    giftLink: (g: { link: string | null; code: string; tariffName: string; claimUntil: Date | string }) =>
      `🎁 <b>Подарок готов: ${h(g.tariffName)}</b>\n\nПерешлите эту ссылку тому, кому дарите:\n` +
      (g.link ? `<code>${h(g.link)}</code>` : `<code>/start gift_${h(g.code)}</code>`) +
      `\n\nПодарок можно активировать до ${date(g.claimUntil)}. Если его не активируют, деньги вернутся вам автоматически.`,
    giftClaimedForBuyer: '🎉 Ваш подарок активирован. Спасибо!',
    giftReceived: (p: { expiresAt: Date | string }) =>
      `🎁 Подарок активирован! Ваш доступ действует до ${date(p.expiresAt)}. Ключ — в сообщении выше и в разделе «Моя подписка».`,
    giftAlreadyClaimed: '😕 Этот подарок уже активировал другой пользователь.',
    giftOwn: '🙂 Это ваш собственный подарок — перешлите ссылку тому, кому дарите.',
    giftExpired: '⌛ Срок активации этого подарка истёк.',
    giftUnknown: '😕 Подарок не найден. Проверьте ссылку.',
    myGiftsButton: '🎁 Мои подарки',
    myGiftsEmpty: 'Вы ещё не дарили подписку. Выберите тариф и нажмите «🎁 Купить в подарок».',
    myGiftsTitle: (n: number) => `<b>Ваши подарки</b> (${n})`,
    myGift: (g: {
      tariffName: string;
      status: string;
      claimUntil: string;
      claimedAt?: string | null;
      link?: string | null;
    }) => {
      const states: Record<string, string> = {
        unclaimed: `ещё не получен, до ${date(g.claimUntil)}`,
        claimed: `получен${g.claimedAt ? ` ${date(g.claimedAt)}` : ''}`,
        refunding: 'не получен: деньги возвращаются',
        refunded: 'не получен: деньги возвращены',
      };
      const link = g.link ? `\n  <code>${h(g.link)}</code>` : '';
      return `• ${h(g.tariffName)} — ${states[g.status] ?? h(g.status)}${link}`;
    },
  },
  /** The user's balance (revenue): its screen, its top-up and the message after one. */
  balance: {
    toppedUp: (p: { amount: string; balance: string; currency: string }) =>
      `💰 Баланс пополнен на ${formatPrice(p.amount, p.currency)}. Сейчас на балансе ${formatPrice(p.balance, p.currency)}.`,
    screen: (p: { balance: string; currency: string }) =>
      `💰 <b>Баланс: ${formatPrice(p.balance, p.currency)}</b>\n\nС баланса можно оплатить подписку в один тап.`,
    entriesTitle: 'Последние операции:',
    entry: (p: { amount: string; currency: string; reason: string; createdAt: string }) =>
      `${date(p.createdAt)} · ${p.amount.startsWith('-') ? '' : '+'}${formatPrice(p.amount, p.currency)} · ${balanceReasons[p.reason] ?? h(p.reason)}`,
    noEntries: 'Операций пока нет.',
    topUpButton: '➕ Пополнить',
    topUpPrompt: 'На какую сумму пополнить баланс? Оплата картой.',
    topUpLink: (p: { amount: string; currency: string }) =>
      `Пополнение на ${formatPrice(p.amount, p.currency)}: оплатите по кнопке ниже. Деньги появятся на балансе сразу после оплаты.`,
    payFromBalance: (p: { balance: string; currency: string }) =>
      `💰 С баланса (${formatPrice(p.balance, p.currency)})`,
    insufficient: 'На балансе недостаточно средств для этого тарифа. Пополните баланс или оплатите картой.',
    paidFromBalance: 'Оплачено с баланса. Ключ придёт следующим сообщением.',
  },
  /** Auto-renew (issue 13): the consent shown before a card payment, the toggle, and the messages. */
  autoRenew: {
    consent:
      '🔁 <b>Автопродление</b>\n\nЕсли включить, ЮKassa сохранит вашу карту, и за сутки до конца подписки мы сами продлим её: сначала спишем с баланса, если хватает, иначе с карты — на тот же тариф и по той же цене. Номер карты у нас не хранится. Отключить можно в любой момент в «Моей подписке».',
    withAutoRenew: '💳 Оплатить и включить автопродление',
    withoutAutoRenew: '💳 Оплатить без автопродления',
    statusLine: (p: { enabled: boolean; nextChargeAt: string | null; method: string | null }) =>
      p.enabled
        ? `🔁 Автопродление: включено${p.nextChargeAt ? `, следующее списание ${date(p.nextChargeAt)}` : ''}${p.method === 'card' ? ' (карта)' : p.method === 'balance' ? ' (баланс)' : p.method === 'stars' ? ' (Telegram Stars)' : ''}`
        : '🔁 Автопродление: выключено',
    turnOn: '🔁 Включить автопродление',
    turnOff: '⏹ Отключить автопродление',
    turnedOn: '🔁 Автопродление включено.',
    turnedOff:
      '⏹ Автопродление отключено: больше ничего не спишем. Доступ работает до конца оплаченного срока.',
    renewed: (p: { expiresAt: Date | string }) =>
      `🔁 Подписка продлена автоматически до ${date(p.expiresAt)}. Ключ и ссылка подписки остаются прежними.`,
    failed: (p: { expiresAt: Date | string }) =>
      `⚠️ Не удалось продлить подписку автоматически. Мы попробуем ещё раз, но доступ закончится ${date(p.expiresAt)}, если оплата не пройдёт. Можно оплатить сейчас:`,
    payNow: '💳 Оплатить сейчас',
  },
  duration,
  /** Trials and promo codes (bot/handlers/growth.ts). */
  growth: {
    trialOffer: (days: number) =>
      `🎁 Попробуйте бесплатно: ${days} ${pluralRu(days, ['день', 'дня', 'дней'])} VPN без оплаты. Ключ придёт сразу.`,
    trialButton: '🎁 Попробовать бесплатно',
    trialStarted: (end: string) =>
      `🎁 Пробный период включён до ${date(end)}. Ключ и QR-код придут следующим сообщением.`,
    trialUsed: 'Пробный период уже был использован: он даётся один раз. Выберите тариф, чтобы продолжить.',
    trialsOff: 'Пробный период сейчас недоступен.',
    adminCodesTitle: (n: number) => `<b>🎟 Промокоды</b> (${n})`,
    adminNoCodes:
      'Промокодов пока нет. Создайте: /newcode КОД percent|amount|days ЗНАЧЕНИЕ [ЛИМИТ] [ДО ГГГГ-ММ-ДД]',
    adminNewCodeUsage:
      'Создать код: <code>/newcode КОД percent|amount|days ЗНАЧЕНИЕ [ЛИМИТ] [ДО ГГГГ-ММ-ДД]</code>\n' +
      'например <code>/newcode SPRING20 percent 20 100 2027-04-30</code>',
    adminCodeCreated: (line: string) => `✅ Код создан:\n\n${line}`,
    adminCodeRefused: (why: string) => `❌ Код не создан: ${h(why)}`,
    adminCodeLine: (c: {
      code: string;
      kind: string;
      value: string;
      activations: number;
      maxUses: number | null;
      users: number;
      revenue: string;
      revenueStars: number;
      discount: string;
      active: boolean;
    }) =>
      `<code>${h(c.code)}</code> · ${c.kind === 'percent' ? `${Number(c.value)} %` : c.kind === 'amount' ? `скидка ${c.value} ₽` : `+${Number(c.value)} дн.`}${c.active ? '' : ' · выключен'}\n` +
      `Активаций: ${c.activations}${c.maxUses ? ` / ${c.maxUses}` : ''} · пользователей: ${c.users}\n` +
      `Выручка: ${c.revenue} ₽${c.revenueStars ? ` + ${c.revenueStars} ⭐` : ''} · скидок дано: ${c.discount} ₽`,
    trialReminder: (p: { hoursLeft: number; expiresAt: Date | string }) =>
      `⏰ Пробный период закончится через ${timeLeft(p.hoursLeft)} (${date(p.expiresAt)}). Выберите тариф — одно нажатие, и тот же ключ продолжит работать:`,
    trialEnded: '🔒 Пробный период закончился, доступ к VPN отключён. Выберите тариф, чтобы продолжить:',
    trialActive: (end: string) =>
      `🎁 Сейчас идёт пробный период — до ${date(end)}. Оплатите тариф в любой момент: ключ останется тем же, оплаченный срок добавится к концу пробного.`,
    promoButton: '🎟 Промокод',
    promoAsk: '🎟 Отправьте промокод ответом на это сообщение.',
    promoDaysAdded: (days: number) =>
      `🎉 Промокод принят: +${days} дн. доступа. Подробности придут сообщением.`,
    promoDiscount: (value: string, kind: 'percent' | 'amount') =>
      `🎟 Промокод принят: скидка ${kind === 'percent' ? `${Number(value)} %` : `${value} ₽`}. Выберите тариф — цена будет со скидкой:`,
    promoFree: '🎉 Промокод покрыл всю цену: платить не нужно. Ключ придёт следующим сообщением.',
    promoRefusal: (code: string) =>
      ({
        promo_not_found: 'Такого промокода нет. Проверьте написание.',
        promo_expired: 'Срок действия этого промокода истёк.',
        promo_not_started: 'Этот промокод ещё не действует.',
        promo_used: 'Вы уже использовали этот промокод.',
        promo_exhausted: 'Этот промокод закончился.',
        promo_wrong_tariff: 'Этот промокод не действует для выбранного тарифа.',
        promo_first_purchase_only: 'Этот промокод только для первой покупки.',
        amount_below_minimum: 'С этим промокодом цена ниже минимальной суммы платежа. Выберите другой тариф.',
        promo_not_a_discount: 'Этот промокод добавляет дни, а не скидку: отправьте его через «🎟 Промокод».',
      })[code] ?? 'Промокод не подошёл.',
  },
  paymentStatus: (status: string) => paymentStatuses[status] ?? h(status),
  failureReason: (reason?: string | null) => reasons[reason as YooKassaReason] ?? 'платёж отклонён',
  // helper botmoney (issue 13 bot screens, issue 16 admin refund): balance, top-up, cancel, admin refund.
  botMoney: {
    balanceButton: '💰 Баланс',
    topUpPreset: (amount: number) => `+ ${formatPrice(amount, 'RUB')}`,
    topUpOther: '✏️ Другая сумма',
    topUpAsk:
      '✏️ Напишите сумму пополнения в рублях, от 10 до 100 000 (например, 250), ответом на это сообщение.',
    topUpNotANumber: 'Это не сумма. Напишите число, например 250 или 99.50.',
    topUpOutOfRange: (p: { min: number; max: number }) =>
      `Пополнить можно на сумму от ${formatPrice(p.min, 'RUB')} до ${formatPrice(p.max, 'RUB')}.`,
    topUpRefused: (why: string) => `Пополнение не создано: ${h(why)}`,
    topUpStarsPreset: (amount: number) => `⭐ + ${formatPrice(amount, 'RUB')}`,
    topUpPromptStars: 'На какую сумму пополнить баланс? Картой или звёздами Telegram (кнопки ⭐).',
    starsTopUpInvoice: (p: { amount: string }) => ({
      title: `Баланс + ${formatPrice(p.amount, 'RUB')}`.slice(0, 32),
      description: `Пополнение баланса VPN на ${formatPrice(p.amount, 'RUB')} сразу после оплаты.`,
      label: `Баланс + ${formatPrice(p.amount, 'RUB')}`,
    }),
    insufficientTopUp: (p: { balance: string; price: string; currency: string }) =>
      `💰 На балансе ${formatPrice(p.balance, p.currency)}, а тариф стоит ${formatPrice(p.price, p.currency)}: средств недостаточно. Пополнить баланс?`,
    cancelButton: '✖️ Отменить подписку',
    cancelRefundPreview: (p: { amount: string; currency: string; toBalance: boolean }) =>
      `✖️ <b>Отмена подписки</b>\n\nДоступ закончится сразу, ключ перестанет работать. Вернём <b>${formatPrice(p.amount, p.currency)}</b> — за неиспользованное время, ${p.toBalance ? 'на баланс' : 'тем же способом, которым вы платили'}.\n\nОтменить?`,
    cancelStopPreview: (p: { endDate: string }) =>
      `✖️ <b>Отмена подписки</b>\n\nСрок возврата денег прошёл, поэтому возврата не будет. Автопродление выключится, больше ничего не спишем, а доступ будет работать до ${date(p.endDate)}.\n\nВыключить автопродление?`,
    cancelNothingToStop: (p: { endDate: string }) =>
      `Автопродление уже выключено: больше ничего не спишем. Доступ работает до ${date(p.endDate)}, возврат за него уже недоступен.`,
    cancelYesRefund: '✅ Отменить и вернуть деньги',
    cancelYesStop: '⏹ Выключить автопродление',
    cancelKeep: '↩️ Оставить подписку',
    canceledRefunded: (p: { amount: string; currency: string }) =>
      `✅ Подписка отменена, ключ больше не работает. Возврат: <b>${formatPrice(p.amount, p.currency)}</b>.`,
    canceledKept: (p: { endDate: string | null }) =>
      `⏹ Автопродление выключено: больше ничего не спишем.${p.endDate ? ` Доступ работает до ${date(p.endDate)}.` : ''}`,
    cancelInProgress: '⏳ Отмена принята и ещё выполняется. Откройте «Мою подписку» через минуту.',
    cancelWindowPassed:
      'Возврат уже недоступен: срок возврата прошёл. Можно выключить автопродление — доступ доработает до конца срока.',
    noActiveToCancel: 'Активной подписки нет — отменять нечего.',
    // The admin's refund (bot/handlers/admin-refund.ts).
    refundButton: '💸 Возврат',
    refundListTitle: (tg: string) =>
      `<b>Возврат платежа</b> пользователя <code>${tg}</code>: выберите платёж.`,
    refundNone: 'Платежей, которые можно вернуть, нет.',
    refundLine: (p: { amount: string; currency: string; provider: string; at: string; purpose: string }) =>
      `${formatPrice(p.amount, p.currency)} · ${p.provider} · ${p.purpose} · ${date(p.at)}`,
    refundPayment: (p: {
      paymentId: string;
      amount: string;
      refunded: string;
      left: string;
      currency: string;
      provider: string;
      purpose: string;
    }) =>
      `<b>Платёж</b> <code>${h(p.paymentId)}</code>\n${h(p.provider)} · ${h(p.purpose)}\nОплачено: ${formatPrice(p.amount, p.currency)}\nУже возвращено: ${formatPrice(p.refunded, p.currency)}\nМожно вернуть: <b>${formatPrice(p.left, p.currency)}</b>\n\nКуда вернуть?`,
    refundToProvider: '↩️ Тем же способом (карта / Stars)',
    refundToBalance: '💰 На баланс',
    refundAsk: (p: { left: string; currency: string; toBalance: boolean; tag: string }) =>
      `💸 Возврат до ${formatPrice(p.left, p.currency)} ${p.toBalance ? 'на баланс' : 'тем же способом'}.\nОтветьте на это сообщение причиной (полный возврат) или суммой и причиной (частичный), например: <code>50 двойное списание</code>\n\n<code>${h(p.tag)}</code>`,
    refundBadInput: (why: string) => `⚠️ ${h(why)}. Ответьте на запрос ещё раз.`,
    refundNeedReason: 'Нужна причина — она попадёт в журнал действий',
    refundBadAmount: (left: string, currency: string) =>
      `Сумма должна быть больше нуля и не больше ${formatPrice(left, currency)}`,
    refundConfirm: (p: {
      amount: string;
      currency: string;
      toBalance: boolean;
      paymentId: string;
      tg: string;
      reason: string;
    }) =>
      `Вернуть <b>${formatPrice(p.amount, p.currency)}</b> ${p.toBalance ? 'на баланс' : 'тем же способом'} по платежу <code>${h(p.paymentId)}</code> пользователя <code>${h(p.tg)}</code>?\nПричина:\n📝 ${h(p.reason)}`,
    refundYes: '✅ Вернуть',
    refundDone: (p: {
      amount: string;
      currency: string;
      toBalance: boolean;
      pending: boolean;
      accessUntil: string | null;
    }) =>
      `✅ Возврат ${formatPrice(p.amount, p.currency)} ${p.toBalance ? 'на баланс' : 'тем же способом'}: ${p.pending ? 'оформлен, провайдер ещё не ответил (повторяем до ответа)' : 'выполнен'}.${p.accessUntil ? ` Доступ теперь до ${date(p.accessUntil)}.` : ''} (Записано в журнал.)`,
    refundRefused: (why: string) => `⚠️ Возврат не выполнен — ${why}`,
  },
  // botops (issue 16 broadcasts, issue 12 drains): the admin's broadcast and node screens.
  adminOps: {
    broadcasts: '📣 Рассылки',
    broadcastsTitle: (n: number) => `<b>📣 Рассылки</b> (последние ${n})`,
    broadcastsEmpty: 'Рассылок ещё не было.',
    newBroadcast: '➕ Новая рассылка',
    askMessage:
      '✍️ Пришлите текст рассылки одним сообщением (HTML: <code>&lt;b&gt;</code>, <code>&lt;i&gt;</code>, <code>&lt;a href&gt;</code>) или с форматированием Telegram.\n\n' +
      'Картинка — первой строкой <code>photo: https://…</code> (API принимает фото по ссылке).\n' +
      'Кнопки — последними строками, по одной: <code>Текст | https://ссылка</code>.\n\n' +
      'Черновик хранится в памяти бота: после перезапуска бота его нужно ввести заново.',
    badMessage: (reason: string) => `⚠️ Сообщение не принято: ${reason}\n\nПришлите его ещё раз.`,
    messageReasons: {
      empty: 'нет текста',
      too_long: 'текст длиннее 4096 символов',
      caption_too_long: 'подпись к картинке длиннее 1024 символов',
      bad_photo: 'ссылка на картинку должна начинаться с https://',
      too_many_buttons: 'больше 10 кнопок',
      bad_button: 'у кнопки пустой текст или текст длиннее 64 символов',
    } as Record<string, string>,
    audienceTitle: (summary: string, buttons: number, photo: boolean) =>
      `<b>Кому отправить?</b>\nСейчас: ${summary}\nКнопок: ${buttons}${photo ? ' · с картинкой' : ''}`,
    segments: {
      all: 'все',
      active: 'с активной подпиской',
      expired: 'подписка кончилась',
      trial: 'только пробный период',
      never_paid: 'ни разу не платили',
    } as Record<string, string>,
    expiredDays: (d: number) => `кончилась за ${d} дн.`,
    segAll: 'Все',
    segActive: 'Активные',
    segTrial: 'Пробный',
    segNeverPaid: 'Не платили',
    segExpired: (d: number) => `Истекли ≤${d} дн.`,
    language: (l: string | undefined) => `🌐 Язык: ${l ?? 'любой'}`,
    location: (l: string | undefined) => `📍 Локация: ${l ?? 'любая'}`,
    anyLanguage: 'язык',
    anyLocation: 'локация',
    ids: (n: number) => (n ? `🧾 Список id (${n}) — заменить` : '🧾 Вставить список id'),
    clearIds: '✖️ Убрать список id',
    askIds: '🧾 Пришлите telegram id получателей: через пробел, запятую или с новой строки (до 100 000).',
    badIds: (bad: string) => `⚠️ Это не telegram id: <code>${bad}</code>. Пришлите список ещё раз.`,
    idsSummary: (n: number) => `список из ${n} id`,
    preview: '👁 Предпросмотр и число получателей',
    drop: '🗑 Удалить черновик',
    dropped: 'Черновик удалён.',
    noDraft: 'Черновика нет (бот перезапускался или рассылка уже запущена). Начните заново.',
    previewFailed: (reason: string) =>
      `⚠️ Telegram не принял сообщение: ${reason}\nИсправьте HTML и пришлите текст заново.`,
    confirm: (n: number) =>
      `Выше — сообщение так, как его получат пользователи.\n<b>Получателей: ${n}</b>. Отправить?`,
    confirmNone: 'Под этот фильтр не попал ни один пользователь.',
    send: (n: number) => `✅ Отправить ${n}`,
    changeAudience: '⬅️ Изменить получателей',
    refused: (reason: string) => `⚠️ API отказал: ${reason}`,
    states: {
      running: '▶️ идёт',
      paused: '⏸ на паузе',
      canceled: '⏹ отменена',
      completed: '✅ завершена',
    } as Record<string, string>,
    progress: (p: {
      id: string;
      state: string;
      total: number;
      sent: number;
      failed: number;
      blocked: number;
      pending: number;
      asOf: string;
    }) =>
      `<b>Рассылка</b> <code>${p.id}</code>\nСостояние: ${p.state}\n` +
      `Всего: <b>${p.total}</b> · отправлено: <b>${p.sent}</b> · ошибок: <b>${p.failed}</b> · ` +
      `заблокировали бота: <b>${p.blocked}</b> · в очереди: <b>${p.pending}</b>\n<i>на ${p.asOf} UTC</i>`,
    refresh: '🔄 Обновить',
    pause: '⏸ Пауза',
    resume: '▶️ Продолжить',
    cancel: '⏹ Отменить',
    confirmCancel: 'Отменить рассылку? Оставшимся получателям она не уйдёт; счётчики сохранятся.',
    yesCancel: 'Да, отменить',
    back: '⬅️ Назад',
    nodesTitle: (n: number) => `<b>🖥 Узлы</b> (${n})`,
    nodeLine: (n: { name: string; location: string; status: string; active: number; capacity: number }) =>
      `• <b>${n.name}</b> · ${n.location} · ${n.status} · ${n.active}/${n.capacity}`,
    nodeCard: (n: {
      name: string;
      location: string;
      status: string;
      active: number;
      capacity: number;
      clients: number;
      lastError: string | null;
      asOf: string;
    }) =>
      `<b>🖥 ${n.name}</b>\nЛокация: ${n.location}\nСтатус: <b>${n.status}</b>\n` +
      `Подписок: <b>${n.active}</b> из ${n.capacity} · клиентов на узле: ${n.clients}` +
      (n.lastError ? `\nПоследняя ошибка: ${n.lastError}` : '') +
      `\n<i>на ${n.asOf} UTC</i>`,
    drainLine: (d: { state: string; moved: number; remaining: number; failed: number }) =>
      `\n\n<b>Перенос</b>: ${d.state}\nперенесено: <b>${d.moved}</b> · осталось: <b>${d.remaining}</b> · не удалось: <b>${d.failed}</b>`,
    enable: '✅ Включить',
    disable: '⛔ Выключить',
    drain: '🚚 Перенести всех (drain)',
    confirmDrain: (name: string, active: number) =>
      `Перенести узел <b>${name}</b>? Он выйдет из выбора, ${active} подписок переедут на другие узлы той же локации (каждому пользователю придёт сообщение), затем узел выключится.`,
    yesDrain: 'Да, перенести',
    nodes: '⬅️ Узлы',
    nodeNotFound: 'Узел не найден.',
    done: (what: string) => `✅ Готово: <b>${what}</b> (записано в аудит)`,
  },
  // stars (issue 13): Stars subscriptions
  starsSubscription: {
    consent: (stars: number) =>
      `⭐ Или подпиской Telegram Stars: Telegram сам списывает ${stars} ⭐ каждые 30 дней, пока вы не отключите её — в «Моей подписке» (автопродление) или в настройках Telegram.`,
    subscribe: (stars: number) => `⭐ Подписка Stars: ${stars} ⭐ / 30 дней`,
    invoice: (stars: number) =>
      `⭐ Подписка Telegram Stars: ${stars} ⭐ каждые 30 дней до отмены. Нажмите, чтобы оплатить в Telegram:`,
    payButton: (stars: number) => `Оплатить ${stars} ⭐`,
  },
};

export type Messages = typeof ru;
