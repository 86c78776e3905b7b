export * from '../../infra/local/processes';
