export * from '../../infra/local/api-harness';
