export * from '../../infra/local/telegram-emulator';
