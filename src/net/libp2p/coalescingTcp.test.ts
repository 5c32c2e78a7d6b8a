import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, connect } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { describe, it } from 'node:test'
import type { MultiaddrConnection } from '@libp2p/interface'
import { coalesceWrites } from './coalescingTcp.ts'

/** A loopback socket pair: what the client writes, the server side collects. */
async function socketPair(): Promise<{ client: Socket; received: () => Buffer; close(): Promise<void> }> {
  const chunks: Buffer[] = []
  let serverSide: Socket | undefined
  const server = createServer((socket) => {
    serverSide = socket
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1')
  await Promise.all([once(client, 'connect'), once(server, 'connection')])
  return {
    client,
    received: () => Buffer.concat(chunks),
    async close() {
      client.destroy()
      serverSide?.destroy()
      server.close()
      await once(server, 'close')
    },
  }
}

/** Chunks as libp2p hands them to `sendData`: iterable, with their total `byteLength`. */
function list(...chunks: Uint8Array[]): Uint8Array[] & { byteLength: number } {
  return Object.assign([...chunks], { byteLength: chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0) })
}

/** The shape `@libp2p/tcp` gives its connections: the socket, and `sendData` writing each chunk. */
function fakeConnection(socket: Socket) {
  const writes: number[] = []
  const connection = {
    socket,
    sendData(data: Uint8Array[]) {
      let sentBytes = 0
      let canSendMore = true
      for (const chunk of data) {
        sentBytes += chunk.byteLength
        writes.push(chunk.byteLength)
        canSendMore = socket.write(chunk)
        if (!canSendMore) break
      }
      return { sentBytes, canSendMore }
    },
  }
  return { connection: connection as unknown as MultiaddrConnection & typeof connection, writes }
}

async function receivedAtLeast(pair: { received: () => Buffer }, bytes: number): Promise<Buffer> {
  while (pair.received().byteLength < bytes) await new Promise((resolve) => setTimeout(resolve, 5))
  return pair.received()
}

describe('coalesceWrites', () => {
  it('delivers the writes of one turn in order, without a later write to flush them', async () => {
    const pair = await socketPair()
    const { connection } = fakeConnection(pair.client)
    coalesceWrites(connection)
    const chunks = Array.from({ length: 200 }, (_, i) => Buffer.from(`chunk ${i};`))
    for (const chunk of chunks) assert.equal(connection.sendData(list(chunk)).canSendMore, true)
    const expected = Buffer.concat(chunks)
    assert.deepEqual(await receivedAtLeast(pair, expected.byteLength), expected)
    await pair.close()
  })

  it('never holds a high-water mark of bytes: a large write goes out as it would uncorked', async () => {
    const pair = await socketPair()
    const { connection } = fakeConnection(pair.client)
    coalesceWrites(connection)
    const small = Buffer.from('small first;')
    const large = Buffer.alloc(pair.client.writableHighWaterMark * 2, 7)
    connection.sendData(list(small))
    assert.equal(pair.client.writableCorked, 1)
    connection.sendData(list(large))
    // The cork was released before the large write: the small bytes went first, in order.
    assert.equal(pair.client.writableCorked, 0)
    const expected = Buffer.concat([small, large])
    assert.deepEqual(await receivedAtLeast(pair, expected.byteLength), expected)
    await pair.close()
  })

  it('leaves a connection without a socket alone', () => {
    const connection = { sendData: () => ({ sentBytes: 0, canSendMore: true }) } as unknown as MultiaddrConnection
    const before = (connection as unknown as { sendData: unknown }).sendData
    coalesceWrites(connection)
    assert.equal((connection as unknown as { sendData: unknown }).sendData, before)
  })
})
