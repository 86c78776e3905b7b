export * from '../../infra/local/agent';
