// Contract of the operator's workflows (workflows/admin-actions.ts): their types and ids, for the API.

export const ADMIN_ACCESS_WORKFLOW_TYPE = 'adminAccessWorkflow';
export const ADMIN_REVOKE_WORKFLOW_TYPE = 'adminRevokeWorkflow';
export const ADMIN_RESEND_KEY_WORKFLOW_TYPE = 'adminResendKeyWorkflow';

/** `admin-<kind>-<uuid>`: one run per operator action. */
export const adminWorkflowId = (kind: string, actionId: string) => `admin-${kind}-${actionId}`;
