import type { BreakerSystem } from '../infra/circuit-breaker';
import type { ApiDeps } from './deps';
import { HttpError } from './errors';

/** The outside system a new purchase with this provider depends on first. */
const SYSTEM_OF: Record<string, BreakerSystem | undefined> = { yookassa: 'yookassa', stars: 'telegram' };

/**
 * New purchases fail fast (503 provider_unavailable) while the provider's circuit breaker is open,
 * instead of starting a workflow that would only pile up retries. In-flight purchases are not affected.
 */
export async function requireProviderAvailable(
  deps: Pick<ApiDeps, 'breakers' | 'logger'>,
  provider: string,
): Promise<void> {
  const system = SYSTEM_OF[provider];
  if (!system) return;
  const admitted = await deps.breakers.admit(system).catch((err: unknown) => {
    // The breaker is an optimisation: if it cannot be read, the purchase itself decides.
    deps.logger.warn({ system, err: (err as Error).message }, 'circuit breaker unreadable');
    return true;
  });
  if (!admitted) {
    throw new HttpError(
      503,
      'provider_unavailable',
      `${system === 'yookassa' ? 'card payments (YooKassa)' : 'Telegram'} keep failing; try again in a minute`,
    );
  }
}
