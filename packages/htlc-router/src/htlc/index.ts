/**
 * HTLCs inside @l2bench/payment-channel states and multi-hop payments over
 * real channels: pure HTLC updates and the receiving side's policy (state.ts),
 * the adjudicator with preimage release and an L1 preimage registry
 * (adjudicator.ts), the HTLC node (node.ts), an in-process network with
 * routing and retries (network.ts) and a channel-backed Forwarder for the
 * simulator (forwarder.ts). Route instructions are plain: no onion, no privacy.
 */
export * from './adjudicator.ts'
export * from './errors.ts'
export * from './forwarder.ts'
export * from './network.ts'
export * from './node.ts'
export * from './node-store.ts'
export * from './state.ts'
export * from './store.ts'
export * from './wire.ts'
