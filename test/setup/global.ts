import { stopServices } from '../support/services';

// Quiet logs in tests unless LOG_LEVEL asks otherwise.
process.env.NODE_ENV = 'test';

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopServices();
  },
};
