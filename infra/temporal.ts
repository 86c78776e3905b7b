import fs from 'node:fs';
import { Connection, Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import type { Config } from './config';

// temporal.api.enums.v1.IndexedValueType and the gRPC status code, as numbers the operator API takes.
const INDEXED_KEYWORD = 2;
const INDEXED_DATETIME = 6;
const GRPC_ALREADY_EXISTS = 6;

export const TASK_QUEUES = { purchases: 'purchases', telegram: 'telegram' } as const;

export { SEARCH_ATTRIBUTES };

/** For `temporal server start-dev --search-attribute Name=Type`. */
export const SEARCH_ATTRIBUTE_FLAGS = [
  'TelegramId=Keyword',
  'PaymentId=Keyword',
  'PurchaseStage=Keyword',
  'StageEnteredAt=Datetime',
  'NodeId=Keyword',
  'GiftState=Keyword',
];

type TemporalSettings = Pick<
  Config,
  | 'TEMPORAL_ADDRESS'
  | 'TEMPORAL_NAMESPACE'
  | 'TEMPORAL_API_KEY'
  | 'TEMPORAL_TLS_CERT'
  | 'TEMPORAL_TLS_KEY'
  | 'TEMPORAL_TLS_CA'
>;

function connectionOptions(s: TemporalSettings) {
  const mtls =
    s.TEMPORAL_TLS_CERT && s.TEMPORAL_TLS_KEY
      ? {
          clientCertPair: {
            crt: fs.readFileSync(s.TEMPORAL_TLS_CERT),
            key: fs.readFileSync(s.TEMPORAL_TLS_KEY),
          },
          serverRootCACertificate: s.TEMPORAL_TLS_CA ? fs.readFileSync(s.TEMPORAL_TLS_CA) : undefined,
        }
      : undefined;
  const tls = mtls ?? (s.TEMPORAL_API_KEY ? true : undefined);
  return {
    address: s.TEMPORAL_ADDRESS,
    tls,
    apiKey: s.TEMPORAL_API_KEY,
    metadata: s.TEMPORAL_API_KEY ? { 'temporal-namespace': s.TEMPORAL_NAMESPACE } : undefined,
  };
}

export async function connectClient(s: TemporalSettings): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(s));
  return new Client({ connection, namespace: s.TEMPORAL_NAMESPACE });
}

export function connectWorker(s: TemporalSettings): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(s));
}

/** Idempotent: already-registered attributes are fine; a type clash is reported. */
export async function registerSearchAttributes(client: Client, namespace: string): Promise<void> {
  const wanted = Object.fromEntries(
    Object.values(SEARCH_ATTRIBUTES).map((k) => [
      k.name,
      k.type === 'DATETIME' ? INDEXED_DATETIME : INDEXED_KEYWORD,
    ]),
  );
  const existing = await client.connection.operatorService.listSearchAttributes({ namespace });
  const missing = Object.fromEntries(
    Object.entries(wanted).filter(([name]) => !(name in (existing.customAttributes ?? {}))),
  );
  if (Object.keys(missing).length === 0) return;
  try {
    await client.connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  } catch (err) {
    if ((err as { code?: number }).code !== GRPC_ALREADY_EXISTS) throw err;
  }
}
