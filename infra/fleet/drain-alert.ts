import type { OpsAlert } from '../ops-alerts';

/**
 * `drain_incomplete`: a drain ended with accesses it could not move (no other healthy node of their
 * location had room). They stay on the node, which stays out of selection and is NOT disabled, so those
 * users keep working; the operator adds capacity (or a node) in the location and drains again, which
 * retries only those accesses.
 */
export function drainIncompleteAlert(p: {
  nodeId: string;
  nodeName: string;
  startedAt: Date;
  failed: number;
  error: string | null;
}): OpsAlert {
  return {
    kind: 'drain_incomplete',
    // One per drain: the same drain finishing twice (a retried activity) is the same alert.
    key: `drain_incomplete:${p.nodeId}:${p.startedAt.getTime()}`,
    detail:
      `drain of node ${p.nodeName} ended with ${p.failed} access(es) it could not move` +
      `${p.error ? ` (${p.error.slice(0, 200)})` : ''}. They stay on ${p.nodeName}, which keeps serving them ` +
      'but takes no new users and is not disabled. Add capacity in that location, then drain again ' +
      `(POST /api/v1/admin/nodes/${p.nodeId}/drain retries only those).`,
  };
}
