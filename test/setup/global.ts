// Root hooks: services started lazily by test/support/services.ts are stopped once at the end.
process.env.NODE_ENV = 'test';
