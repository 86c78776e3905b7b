import assert from 'node:assert/strict';
import pino from 'pino';
import { HttpError } from '../../api/errors';
import { translateStartError } from '../../api/purchases';

// What @temporalio/client throws from executeUpdateWithStart when the new purchase's first workflow task
// failed or timed out before it took the paymentLink update (gRPC FAILED_PRECONDITION). test:deploy saw it
// with 2 workers, one killed, under a burst: the API answered 500 where a retry succeeds.
function workflowTaskFailed(): Error {
  const grpc = Object.assign(new Error('9 FAILED_PRECONDITION: Update-with-Start could not be executed.'), {
    code: 9,
    details: 'Unable to perform workflow execution update due to Workflow Task in failed state.',
  });
  return Object.assign(new Error(grpc.details), { code: 9, cause: grpc });
}

describe('api: purchase start errors', () => {
  const deps = { logger: pino({ level: 'silent' }) };

  it('a workflow task not yet able to take the update is a retryable 503 purchase_start_timeout', () => {
    const err = translateStartError(deps, workflowTaskFailed(), 'purchase-x');
    assert.ok(err instanceof HttpError, `${err}`);
    assert.equal(err.status, 503);
    assert.equal(err.code, 'purchase_start_timeout');
  });

  it('an unknown failure stays an internal error', () => {
    const original = new Error('something else');
    assert.equal(translateStartError(deps, original, 'purchase-x'), original);
  });
});
