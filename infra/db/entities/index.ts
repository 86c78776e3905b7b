import { EntitySchema } from '@mikro-orm/core';

// Plain row types with EntitySchema: no decorators, so the Temporal bundler and tsx need no metadata tricks.
export interface User {
  id: string;
  telegramId: string; // bigint travels as a string so no precision is lost
  username?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  language: string;
  referral?: string | null;
  isBlocked: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface Tariff {
  id: number;
  slug: string;
  name: string;
  description: string;
  price: string; // numeric(12,2) as a decimal string
  currency: string;
  durationSeconds: number;
  starPrice?: number | null;
  location?: string | null;
  isActive: boolean;
  displayOrder: number;
  createdAt: Date;
}

export interface VpnNode {
  id: string;
  name: string;
  host: string;
  port: number;
  location: string;
  countryCode: string;
  capacity: number;
  driver: 'agent' | 'ssh';
  agentUrl?: string | null;
  agentToken?: string | null;
  ssh?: SshSettings | null;
  realityPublicKey: string;
  realityShortId: string;
  realityServerName: string;
  status: 'up' | 'down' | 'disabled';
  consecutiveFailures: number;
  clientCount: number;
  lastHealthCheck?: Date | null;
  lastError?: string | null;
  createdAt: Date;
}

export interface SshSettings {
  host: string;
  port: number;
  username: string;
  private_key: string;
  host_key: string;
  command?: string;
}

const t = (type: string, extra: Record<string, unknown> = {}) => ({ type, ...extra });
const opt = (type: string, extra: Record<string, unknown> = {}) => ({ type, nullable: true, ...extra });

export const UserSchema = new EntitySchema<User>({
  name: 'User',
  tableName: 'users',
  properties: {
    id: t('uuid', { primary: true, defaultRaw: 'gen_random_uuid()' }),
    telegramId: t('bigint', { unique: true }),
    username: opt('string'),
    firstName: opt('string'),
    lastName: opt('string'),
    language: t('string', { default: 'ru' }),
    referral: opt('string'),
    isBlocked: t('boolean', { default: false }),
    createdAt: t('Date', { onCreate: () => new Date() }),
    updatedAt: t('Date', { onCreate: () => new Date(), onUpdate: () => new Date() }),
  },
});

export const TariffSchema = new EntitySchema<Tariff>({
  name: 'Tariff',
  tableName: 'tariffs',
  properties: {
    id: t('integer', { primary: true, autoincrement: true }),
    slug: t('string', { unique: true }),
    name: t('string'),
    description: t('text', { default: '' }),
    price: t('decimal', { precision: 12, scale: 2 }),
    currency: t('string', { default: 'RUB' }),
    durationSeconds: t('integer'),
    starPrice: opt('integer'),
    location: opt('string'),
    isActive: t('boolean', { default: true }),
    displayOrder: t('integer', { default: 0 }),
    createdAt: t('Date', { onCreate: () => new Date() }),
  },
});

export const VpnNodeSchema = new EntitySchema<VpnNode>({
  name: 'VpnNode',
  tableName: 'vpn_nodes',
  properties: {
    id: t('uuid', { primary: true, defaultRaw: 'gen_random_uuid()' }),
    name: t('string', { unique: true }),
    host: t('string'),
    port: t('integer'),
    location: t('string'),
    countryCode: t('string'),
    capacity: t('integer'),
    driver: t('string'),
    agentUrl: opt('string'),
    agentToken: opt('string', { hidden: true }),
    ssh: opt('json', { hidden: true }),
    realityPublicKey: t('string'),
    realityShortId: t('string', { default: '' }),
    realityServerName: t('string'),
    status: t('string', { default: 'up' }),
    consecutiveFailures: t('integer', { default: 0 }),
    clientCount: t('integer', { default: 0 }),
    lastHealthCheck: opt('Date'),
    lastError: opt('text'),
    createdAt: t('Date', { onCreate: () => new Date() }),
  },
});

export const entities = [UserSchema, TariffSchema, VpnNodeSchema];
