export * from '../../infra/local/sites';
