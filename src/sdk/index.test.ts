import assert from 'node:assert/strict'
import { it } from 'node:test'
import * as sdk from './index.ts'

// `veritask/sdk`'s public surface: changing it should be a conscious decision.
it('sdk exports exactly its public API', () => {
  assert.deepEqual(Object.keys(sdk).sort(), [
    'BadResponseError',
    'ChainUnreachableError',
    'EmptyInputError',
    'InputNotFoundError',
    'InsufficientEscrowError',
    'InsufficientTokensError',
    'InvalidProgramError',
    'JobInterruptedError',
    'NodeApiError',
    'NodeUnreachableError',
    'ResultMismatchError',
    'SdkError',
    'TimeoutError',
    'assertWasmProgram',
    'backoffDelay',
    'buildChunkOutputTree',
    'chunkOutputLeafEncoding',
    'createNodeApi',
    'createVeritaskClient',
    'defaultRetryPolicy',
    'defaultTaskTerms',
    'deposit',
    'frameOutputs',
    'getEscrow',
    'getReceipt',
    'getResult',
    'getTask',
    'groupForReduce',
    'isChunkOutputInRoot',
    'isRetryableStatus',
    'nextChunkStep',
    'parseReceipt',
    'planChunks',
    'readJobInput',
    'receiptToJson',
    'submitJob',
    'submitTask',
    'uploadProgram',
    'verifyReceipt',
    'waitForResult',
  ])
})
