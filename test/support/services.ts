export * from '../../infra/local/services';
