export * from '../../../infra/local/bot-api-emulator/state';
