import { Migration } from '@mikro-orm/migrations';

/**
 * Node agent hardening: the pinned SHA-256 fingerprint of the agent's TLS certificate, and room for
 * encrypted secrets (an AES-GCM envelope of a 255-character token is longer than 255).
 */
export class Migration20261201003000_node_agent_tls extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
alter table vpn_nodes add column agent_cert_sha256 varchar(95)
  check (agent_cert_sha256 ~ '^([0-9A-F]{2}:){31}[0-9A-F]{2}$');
alter table vpn_nodes alter column agent_token type text;
`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table vpn_nodes drop column if exists agent_cert_sha256;`);
  }
}
