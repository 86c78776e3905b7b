// The workflow bundle's entry: every workflow type the `purchases` queue runs.
export { purchaseWorkflow } from './purchase';
export { subscriptionWorkflow } from './subscription';
export { nodeHealthWorkflow } from './node-health';
export { starsRefundWorkflow } from './stars-refund';
export { giftWorkflow } from './gift';
export { referralRewardWorkflow } from './referral';
export { adminAccessWorkflow, adminResendKeyWorkflow, adminRevokeWorkflow } from './admin-actions';
export { broadcastWorkflow } from './broadcast';
export { cancelSubscriptionWorkflow, refundWorkflow } from './refunds';
export { freeAccessWorkflow } from './trial';
export { reconcileNodeWorkflow } from './reconcile';
export { quotaCheckWorkflow } from './quota';
export { opsAlertWorkflow, opsWatchWorkflow } from './ops-alert';
export { drainNodeWorkflow } from './drain';
export { starsSubscriptionCancelWorkflow, starsSubscriptionSyncWorkflow } from './stars-subscription';
