/** The emulated Bot API's memory: pending updates, chats with their messages, queries awaiting answers. */

export type Params = Record<string, unknown>;

export interface TgUser {
  id: number;
  is_bot: boolean;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

export interface TgMessage {
  message_id: number;
  date: number;
  chat: { id: number; type: 'private'; first_name: string; username?: string };
  from?: TgUser;
  text?: string;
  caption?: string;
  reply_markup?: { inline_keyboard?: Array<Array<Record<string, unknown>>> };
  [field: string]: unknown;
}

export interface TgUpdate {
  update_id: number;
  [kind: string]: unknown;
}

/** A Bot API error, answered as `{ok:false, error_code, description, parameters?}` with the same HTTP status. */
export class ApiFailure extends Error {
  constructor(
    readonly errorCode: number,
    readonly description: string,
    readonly parameters?: { retry_after?: number },
  ) {
    super(description);
  }
}

export const now = () => Math.floor(Date.now() / 1000);

/** Updates Telegram still holds: getUpdates returns them until confirmed by a higher offset. */
export class UpdateQueue {
  private pending: TgUpdate[] = [];
  private nextId = 1;
  private listeners = new Set<() => void>();

  push(body: Omit<TgUpdate, 'update_id'>): TgUpdate {
    const update = { update_id: this.nextId++, ...body };
    this.pending.push(update);
    for (const listener of [...this.listeners]) listener();
    return update;
  }

  /** getUpdates' offset semantics: every update below `offset` is forgotten; negative keeps the last -offset. */
  confirm(offset: number): void {
    if (offset > 0) this.pending = this.pending.filter((u) => u.update_id >= offset);
    else if (offset < 0) this.pending = this.pending.slice(offset);
  }

  peek(limit = 100): TgUpdate[] {
    return this.pending.slice(0, Math.min(Math.max(limit, 1), 100));
  }

  remove(updateId: number): void {
    this.pending = this.pending.filter((u) => u.update_id !== updateId);
  }

  clear(): void {
    this.pending = [];
  }

  get size(): number {
    return this.pending.length;
  }

  /** Calls `listener` on every push until the returned function is called. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

interface Chat {
  user: TgUser;
  nextMessageId: number;
  messages: Map<number, TgMessage>;
}

/** Private chats: the user behind each, and every message in it (user's and bot's share one id sequence). */
export class ChatBook {
  private chats = new Map<number, Chat>();

  private chat(chatId: number): Chat {
    let chat = this.chats.get(chatId);
    if (!chat) {
      const user = { id: chatId, is_bot: false, first_name: `User${chatId}`, language_code: 'ru' };
      chat = { user, nextMessageId: 1, messages: new Map() };
      this.chats.set(chatId, chat);
    }
    return chat;
  }

  /** The user of a private chat; `from` fields given once stick for later updates (e.g. language_code). */
  user(chatId: number, from?: Partial<TgUser>): TgUser {
    const chat = this.chat(chatId);
    if (from) chat.user = { ...chat.user, ...from, id: chatId, is_bot: false };
    return chat.user;
  }

  addMessage(chatId: number, from: TgUser, fields: Partial<TgMessage>): TgMessage {
    const chat = this.chat(chatId);
    const message: TgMessage = {
      message_id: chat.nextMessageId++,
      date: now(),
      chat: { id: chatId, type: 'private', first_name: chat.user.first_name, username: chat.user.username },
      from,
      ...fields,
    };
    chat.messages.set(message.message_id, message);
    return message;
  }

  message(chatId: number, messageId: number): TgMessage | undefined {
    return this.chats.get(chatId)?.messages.get(messageId);
  }

  deleteMessage(chatId: number, messageId: number): boolean {
    return this.chats.get(chatId)?.messages.delete(messageId) ?? false;
  }

  /** Messages in a chat, oldest first, optionally only those sent by `fromId`. */
  messages(chatId: number, fromId?: number): TgMessage[] {
    const all = [...(this.chats.get(chatId)?.messages.values() ?? [])];
    return fromId === undefined ? all : all.filter((m) => m.from?.id === fromId);
  }
}
