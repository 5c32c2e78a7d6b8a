import { Socket } from 'node:net'
import { tcp } from '@libp2p/tcp'
import type { TCPOptions } from '@libp2p/tcp'
import type { MultiaddrConnection, Transport, Upgrader } from '@libp2p/interface'

type TcpComponents = Parameters<ReturnType<typeof tcp>>[0]

/** What a TCP connection of `@libp2p/tcp` has underneath: its socket, and the one method all its writes go through. */
interface SocketConnection {
  socket?: unknown
  sendData?: (data: unknown) => SendResult
}

interface SendResult {
  sentBytes: number
  canSendMore: boolean
}

/**
 * Makes the writes a connection issues while the event loop handles one round of I/O and timers go
 * to the kernel together, in one `writev`, in the loop's check phase (`setImmediate`).
 *
 * `@libp2p/tcp` writes each chunk it is handed at once: a Noise frame, a Yamux header, the frame
 * of every gossip RPC, each control message to each peer: in a profiled devnet node, ~30 writes of
 * ~90 bytes per task per peer, and socket writes were its largest single cost. Corking the socket
 * until the check phase keeps the bytes and their order, and the data leaves before the event loop
 * waits again; a cork never holds more than the socket's high-water mark, so `write()` reports a
 * full buffer only when the kernel's is (as without it). Not `process.nextTick`: a writer that
 * loops on 'drain' would never yield to I/O. A connection that does not look like `@libp2p/tcp`'s
 * is left alone.
 */
export function coalesceWrites<T extends MultiaddrConnection>(connection: T): T {
  const target = connection as T & SocketConnection
  const socket = target.socket
  const send = target.sendData
  if (!(socket instanceof Socket) || typeof send !== 'function') return connection
  /** The cork this turn holds, if any; each is released once, by its own `setImmediate` or earlier. */
  let cork: { released: boolean } | undefined
  const release = (held: { released: boolean }): void => {
    if (held.released) return
    held.released = true
    if (cork === held) cork = undefined
    socket.uncork()
  }
  target.sendData = function (this: unknown, data: unknown): SendResult {
    const size = (data as { byteLength?: number }).byteLength ?? 0
    // Never hold a high-water mark's worth: a corked socket's write() would then report a full
    // buffer, and each 'drain' that follows wakes every stream of the connection (libp2p's muxer
    // signals them all), whether their flow-control window opened or not. Larger writes go as
    // they would without the cork.
    if (cork !== undefined && socket.writableLength + size >= socket.writableHighWaterMark) release(cork)
    if (cork === undefined && size < socket.writableHighWaterMark && !socket.destroyed) {
      const held = { released: false }
      cork = held
      socket.cork()
      setImmediate(() => release(held))
    }
    return send.call(this, data)
  }
  return connection
}

/** The upgrader a transport is handed, passing every raw connection through `coalesceWrites` first. */
function coalescingUpgrader(upgrader: Upgrader): Upgrader {
  return new Proxy(upgrader, {
    get(target, property) {
      if (property === 'upgradeInbound') {
        return (connection: MultiaddrConnection, options: Parameters<Upgrader['upgradeInbound']>[1]) =>
          target.upgradeInbound(coalesceWrites(connection), options)
      }
      if (property === 'upgradeOutbound') {
        return (connection: MultiaddrConnection, options: Parameters<Upgrader['upgradeOutbound']>[1]) =>
          target.upgradeOutbound(coalesceWrites(connection), options)
      }
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    },
  })
}

/**
 * `@libp2p/tcp` whose connections coalesce the writes of one event-loop turn (`coalesceWrites`):
 * the raw connection is wrapped as the transport hands it to the upgrader, on dial and on listen.
 */
export function coalescingTcp(init?: TCPOptions): (components: TcpComponents) => Transport {
  const factory = tcp(init)
  return (components) => {
    const transport = factory(components)
    return new Proxy(transport, {
      get(target, property) {
        if (property === 'dial') {
          return (address: Parameters<Transport['dial']>[0], options: Parameters<Transport['dial']>[1]) =>
            target.dial(address, { ...options, upgrader: coalescingUpgrader(options.upgrader) })
        }
        if (property === 'createListener') {
          return (options: Parameters<Transport['createListener']>[0]) =>
            target.createListener({ ...options, upgrader: coalescingUpgrader(options.upgrader) })
        }
        const value: unknown = Reflect.get(target, property, target)
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
      },
    })
  }
}
