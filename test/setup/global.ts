import { DefaultLogger, Runtime } from '@temporalio/worker';
import { stopServices } from '../support/services';
import { stopTimeSkipping } from '../support/time-skipping';

// Quiet logs in tests unless LOG_LEVEL asks otherwise.
process.env.NODE_ENV = 'test';
Runtime.install({ logger: new DefaultLogger((process.env.TEMPORAL_LOG_LEVEL as 'WARN') ?? 'WARN') });

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopTimeSkipping();
    await stopServices();
  },
};
