/**
 * @l2bench/bench — the harness: scenarios (benchmarks/*.yaml), deterministic
 * workloads, design adapters behind one interface, metrics, reports and the
 * CI gate. The `l2bench` CLI (src/cli.ts) is a thin layer over these.
 */
export * from './calibrate.ts'
export type * from './design.ts'
export * from './designs/index.ts'
export { ChannelDesign } from './designs/channel.ts'
export * from './designs/options.ts'
export { HtlcDesign } from './designs/htlc.ts'
export { L1Design } from './designs/l1.ts'
export { PaychDesign } from './designs/paych.ts'
export { VirtualDesign } from './designs/virtual.ts'
export * from './errors.ts'
export * from './gate.ts'
export * from './meter.ts'
export * from './output.ts'
export { renderHtml } from './report/html.ts'
export { renderMarkdown } from './report/markdown.ts'
export { ghaEntries } from './report/gha.ts'
export * from './results.ts'
export * from './run.ts'
export * from './runner.ts'
export * from './scenario.ts'
export * from './stats.ts'
export * from './workload.ts'
