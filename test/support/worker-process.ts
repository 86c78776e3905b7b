export * from '../../infra/local/worker-process';
