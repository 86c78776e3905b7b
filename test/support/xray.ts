export * from '../../infra/local/xray';
