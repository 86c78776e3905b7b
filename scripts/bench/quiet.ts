// Imported first by the bench/chaos entry points: the figures own stdout, so the product's pino loggers
// (created at module load, reading LOG_LEVEL then) stay silent unless BENCH_LOG_LEVEL asks for them.
process.env.NODE_ENV ??= 'test';
process.env.LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'silent';

export {};
