export * from '../../infra/local/system';
