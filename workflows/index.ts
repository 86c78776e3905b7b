// The workflow bundle's entry: every workflow type the `purchases` queue runs.
export { purchaseWorkflow } from './purchase';
export { subscriptionWorkflow } from './subscription';
export { nodeHealthWorkflow } from './node-health';
export { starsRefundWorkflow } from './stars-refund';
export { cancelSubscriptionWorkflow, refundWorkflow } from './refunds';
