/**
 * @l2bench/htlc-router — multi-hop payments over a network of channels:
 * the channel graph (graph/), pathfinding with fees, timelocks, mission
 * control, a probability-aware cost and multi-part splitting (routing/), and
 * a discrete-event network simulator with topology and workload generators
 * (sim/). Route instructions are plain: there is no onion and no privacy.
 * HTLCs inside @l2bench/payment-channel states plug in through `Forwarder`.
 */
export * from './errors.ts'
export * from './graph/fees.ts'
export * from './graph/generators.ts'
export * from './graph/graph.ts'
export * from './routing/heap.ts'
export * from './routing/mission-control.ts'
export * from './routing/mpp.ts'
export * from './routing/pathfinder.ts'
export * from './routing/probability.ts'
export * from './routing/route.ts'
export * from './sim/event-queue.ts'
export * from './sim/forwarder.ts'
export * from './sim/hop.ts'
export * from './sim/report.ts'
export * from './sim/simulator.ts'
export * from './sim/workload.ts'
export * from './htlc/index.ts'
