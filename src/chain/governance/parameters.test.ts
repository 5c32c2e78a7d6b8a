import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { defaultParams } from '../../core/params.ts'
import {
  defaultNetworkParameters,
  findNetworkParameter,
  fromChainValues,
  fromProtocolParams,
  networkParameters,
  toChainValues,
  toProtocolParams,
} from './parameters.ts'

describe('network parameters', () => {
  it('round-trips through the contract’s id-ordered values, keeping bigints and numbers apart', () => {
    const values = toChainValues(defaultNetworkParameters)
    assert.equal(values.length, networkParameters.length)
    assert.equal(values[findNetworkParameter('replicationK')!.id], 3n)
    assert.deepEqual(fromChainValues(values), defaultNetworkParameters)
    assert.equal(typeof fromChainValues(values).minStake, 'bigint')
    assert.equal(typeof fromChainValues(values).commitWindowMs, 'number')
    assert.throws(() => fromChainValues(values.slice(1)), new RegExp(`expected ${networkParameters.length} parameter values, got ${networkParameters.length - 1}`))
  })

  it('gives nodes the governed policy, limits and windows, and keeps their own settings for the rest', () => {
    const governed = { ...defaultNetworkParameters, replicationK: 5, replicationQuorum: 3, auditRatePpm: 250_000, minAuditPpm: 50_000, commitWindowMs: 9_000, maxFuel: 7n }
    // A node's own audit settings do not count: the audit rate and its floor are governed.
    const base = { ...defaultParams, backups: 7, maxMessageBytes: 999, minAuditPpm: 0, defaultPolicy: { ...defaultParams.defaultPolicy, auditPpm: 1 } }
    const params = toProtocolParams(governed, base)
    assert.deepEqual(params.defaultPolicy, { kind: 'replicate', k: 5, quorum: 3, auditPpm: 250_000 })
    assert.deepEqual([params.minAuditPpm, params.commitWindowMs, params.maxFuel, params.backups, params.maxMessageBytes], [50_000, 9_000, 7n, 7, 999])
    assert.deepEqual(toProtocolParams(defaultNetworkParameters), defaultParams)
    // A chain started from a node's settings gives that node its settings back.
    const custom = { ...defaultParams, commitWindowMs: 2_000, minAuditPpm: 20_000, defaultPolicy: { kind: 'replicate' as const, k: 5, quorum: 4, auditPpm: 40_000 } }
    assert.deepEqual(toProtocolParams({ ...defaultNetworkParameters, ...fromProtocolParams(custom) }, custom), custom)
  })
})
