import { AgentDriver } from './agent-driver';
import type { NodeDriver } from './driver';
import { SshDriver, type SshNodeConfig } from './ssh-driver';

export * from './driver';
export { AgentDriver } from './agent-driver';
export { SshDriver, type SshNodeConfig } from './ssh-driver';
export { sshFingerprint } from './host-key';
export { agentUrlProblem, isLoopbackHost, normalizeCertFingerprint } from './agent-url';
export { NodeSecrets, NodeSecretsError, nodeSecretsFromEnv } from './secrets';

/** A node as stored by the orchestrator (admin API body uses agent_url/agent_token; both spellings work). */
export interface NodeConnection {
  id: string;
  driver: 'agent' | 'ssh';
  agentUrl?: string | null;
  agentToken?: string | null;
  agent_url?: string | null;
  agent_token?: string | null;
  /** Pinned SHA-256 of the agent's TLS certificate ("AB:CD:…"). */
  agentCertSha256?: string | null;
  agent_cert_sha256?: string | null;
  ssh?: SshNodeConfig | null;
}

export interface NodeDriverOptions {
  timeoutMs?: number;
}

/** Throws a plain Error for an incomplete node record: that is a data bug, not a node failure. */
export function createNodeDriver(node: NodeConnection, options: NodeDriverOptions = {}): NodeDriver {
  if (node.driver === 'agent') {
    const url = node.agentUrl ?? node.agent_url;
    const token = node.agentToken ?? node.agent_token;
    if (!url || !token) throw new Error(`node ${node.id}: driver "agent" needs agent_url and agent_token`);
    const certSha256 = node.agentCertSha256 ?? node.agent_cert_sha256;
    return new AgentDriver({ nodeId: node.id, url, token, certSha256, timeoutMs: options.timeoutMs });
  }
  if (node.driver === 'ssh') {
    const ssh = node.ssh;
    if (!ssh?.host || !ssh.username || !ssh.private_key || !ssh.host_key) {
      throw new Error(`node ${node.id}: driver "ssh" needs ssh.host, username, private_key and host_key`);
    }
    return new SshDriver({ nodeId: node.id, ssh, timeoutMs: options.timeoutMs });
  }
  throw new Error(`node ${node.id}: unknown driver ${String((node as { driver: unknown }).driver)}`);
}
