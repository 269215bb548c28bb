/**
 * PeerTable: which authenticated link reaches which peer. The only place a
 * peer identity is bound to a connection, and only by a SecureLink handshake
 * (a signature over that connection's fresh challenge): a frame that claims
 * an address proves nothing.
 *
 * Routing rules:
 *   - a link becomes the route to its peer when it authenticates and no other
 *     live authenticated link to that peer exists;
 *   - a live authenticated route is never replaced: a second link of the same
 *     peer waits as a standby (at most `maxStandby`) and takes over when the
 *     route closes (a half-open route is dropped by the idle timeout);
 *   - frames from any authenticated link of a peer are that peer's frames;
 *     everything else never reaches the node.
 * `suspend` drops every connection and refuses new handshakes (a stopped
 * node: its peers see a disconnect, not silence); `resume` accepts again.
 */
import { type Address, type L2Error, toAddress } from '@l2bench/core'
import { LinkError } from './errors.ts'
import { SecureLink, type SecureLinkOptions, checkLinkOptions } from './secure-link.ts'
import type { Link } from './transport.ts'

export interface PeerTableOptions extends Omit<SecureLinkOptions, 'onError' | 'accepting'> {
  onFrame(peer: Address, payload: Uint8Array): void
  /** A link became the route to `peer` (first connection, reconnection, standby promoted): resync. */
  onPeer(peer: Address): void
  onError(err: L2Error): void
  /** Authenticated links kept per peer besides the route (default 4). */
  maxStandby?: number
}

export class PeerTable {
  private readonly routes = new Map<Address, SecureLink>()
  private readonly standby = new Map<Address, SecureLink[]>()
  private readonly bound = new Map<SecureLink, Address>()
  private readonly waiters = new Map<Address, (() => void)[]>()
  private readonly links = new Set<SecureLink>()
  private suspended = false

  constructor(private readonly options: PeerTableOptions) {
    checkLinkOptions(options)
  }

  /** Runs the handshake on every (re)connection of `raw`; returns the authenticated view of it. */
  attach(raw: Link): SecureLink {
    const o = this.options
    const link = new SecureLink(raw, { ...o, onError: (e) => o.onError(e), accepting: () => !this.suspended })
    if (this.links.size >= 1024) for (const l of this.links) if (!l.raw.isOpen) this.links.delete(l)
    this.links.add(link)
    link.onOpen(() => this.up(link))
    link.onClose(() => this.down(link))
    link.onFrame((payload) => {
      const peer = this.bound.get(link)
      if (peer !== undefined && !this.suspended) o.onFrame(peer, payload)
    })
    return link
  }

  private up(link: SecureLink): void {
    const peer = link.peer as Address
    this.bound.set(link, peer)
    const route = this.routes.get(peer)
    if (route !== undefined && route !== link && route.isOpen) {
      const list = this.standby.get(peer) ?? []
      if (list.length >= (this.options.maxStandby ?? 4)) {
        this.options.onError(new LinkError('AUTH', 'peer', `too many connections from ${peer}`))
        link.close()
        return
      }
      list.push(link)
      this.standby.set(peer, list)
      return
    }
    this.routes.set(peer, link)
    for (const w of this.waiters.get(peer) ?? []) w()
    this.waiters.delete(peer)
    this.options.onPeer(peer)
  }

  private down(link: SecureLink): void {
    const peer = this.bound.get(link)
    if (peer === undefined) return
    this.bound.delete(link)
    const list = (this.standby.get(peer) ?? []).filter((l) => l !== link)
    if (list.length > 0) this.standby.set(peer, list)
    else this.standby.delete(peer)
    if (this.routes.get(peer) !== link) return
    this.routes.delete(peer)
    const next = list.find((l) => l.isOpen)
    if (next === undefined) return
    this.standby.set(
      peer,
      list.filter((l) => l !== next),
    )
    this.routes.set(peer, next)
    this.options.onPeer(peer)
  }

  send(peer: Address, payload: Uint8Array): void {
    if (!this.suspended) this.routes.get(peer)?.send(payload)
  }

  isConnected(peer: Address): boolean {
    return this.routes.has(toAddress('peer', peer))
  }

  /** Resolves once `peer` authenticated on some link (at once if it has). */
  whenConnected(peer: Address): Promise<void> {
    const a = toAddress('peer', peer)
    if (this.routes.has(a)) return Promise.resolve()
    return new Promise((resolve) => {
      const list = this.waiters.get(a) ?? []
      list.push(resolve)
      this.waiters.set(a, list)
    })
  }

  /** The route to `peer` (tests send through it as that peer would). */
  route(peer: Address): SecureLink | undefined {
    return this.routes.get(peer)
  }

  /** Drops every connection and refuses handshakes until `resume` (reconnecting links keep dialing). */
  suspend(): void {
    this.suspended = true
    for (const l of this.links) if (l.raw.isOpen) l.drop()
  }

  resume(): void {
    this.suspended = false
  }
}
