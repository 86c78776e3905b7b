import { randomUUID } from 'node:crypto';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { Response } from 'express';
import { adminWorkflowId } from '../workflows/admin-messages';
import { Failure } from '../workflows/failures';
import { type AdminActionResult, adminIdentity, recordAdminAction } from './audit';
import type { ApiDeps } from './deps';
import { HttpError } from './errors';

/** Failure types the admin workflows raise on purpose, as the API answers them. */
const ANSWERS: Record<string, [number, string]> = {
  [Failure.UserNotFound]: [404, 'user_not_found'],
  [Failure.TariffNotFound]: [404, 'tariff_not_found'],
  [Failure.NoActiveSubscription]: [409, 'no_active_subscription'],
  [Failure.NoNodeAvailable]: [409, 'no_node_available'],
};

function applicationFailureIn(err: unknown): ApplicationFailure | undefined {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause)
    if (e instanceof ApplicationFailure && e.type) return e;
  return undefined;
}

/**
 * Runs one admin workflow (`admin-<kind>-<uuid>`) on the purchases queue and waits for its answer. A failure
 * it raises on purpose becomes its 4xx; anything else (a node that would not answer) is 409 `action_failed` (the fleet's state refused it; a 4xx, never a 5xx)
 * naming the workflow, whose history says what happened.
 */
export async function runAdminWorkflow<T>(
  deps: ApiDeps,
  workflowType: string,
  kind: string,
  input: unknown,
): Promise<T> {
  const workflowId = adminWorkflowId(kind, randomUUID());
  try {
    return (await deps.temporal.workflow.execute(workflowType, {
      workflowId,
      taskQueue: deps.config.PURCHASES_TASK_QUEUE,
      args: [input],
      workflowExecutionTimeout: '2m',
    })) as T;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const failure = applicationFailureIn(err);
    const known = failure?.type ? ANSWERS[failure.type] : undefined;
    if (known) throw new HttpError(known[0], known[1], failure?.message);
    throw new HttpError(409, 'action_failed', `${workflowId}: ${failure?.message ?? err.message}`);
  }
}

/**
 * Does one admin write and appends its audit row whatever happens: `ok`, `refused` (a 4xx answer) or
 * `failed` (anything else), with the answer's code as the detail.
 */
export async function audited<T>(
  deps: ApiDeps,
  res: Response,
  what: { action: string; target: string; params?: Record<string, unknown> },
  work: () => Promise<T>,
): Promise<T> {
  const record = (result: AdminActionResult, detail: string | null) =>
    recordAdminAction(deps.orm, { admin: adminIdentity(res), ...what, result, detail });
  try {
    const value = await work();
    await record('ok', null);
    return value;
  } catch (err) {
    const refused = err instanceof HttpError && err.status < 500;
    await record(refused ? 'refused' : 'failed', err instanceof HttpError ? err.code : String(err)).catch(
      (auditErr) => deps.logger.error({ err: auditErr }, 'audit row not written'),
    );
    throw err;
  }
}
