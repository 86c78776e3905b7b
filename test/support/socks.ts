export * from '../../infra/local/socks';
