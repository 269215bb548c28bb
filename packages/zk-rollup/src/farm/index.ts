/**
 * @l2bench/zk-rollup/farm — proving on a farm of machines through BullMQ
 * (Redis): QueueProver (a Prover whose jobs any worker takes) and
 * ProverFarmWorker (the worker, `l2bench prover`). A subpath of its own so
 * that importing the rollup does not load BullMQ and ioredis.
 */
export * from './circuit.ts'
export * from './codec.ts'
export * from './errors.ts'
export * from './protocol.ts'
export * from './queue-prover.ts'
export * from './redis.ts'
export * from './redis-server.ts'
export * from './registry.ts'
export * from './speedup.ts'
export * from './worker.ts'
