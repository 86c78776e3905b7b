import { Migration } from '@mikro-orm/migrations';

/**
 * What the device screens show of an app-registered device: `x-device-os` and `x-device-model` as the app
 * sent them to the subscription URL with its `x-hwid` (null when it sent none, and for devices added in the
 * bot). Existing rows stay as they are.
 */
export class Migration20261204040000_device_os_model extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table devices add column os varchar(32), add column model varchar(64);`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table devices drop column model, drop column os;`);
  }
}
