// The public API of `veritask`. Exports are named one by one: a change here is a change to what
// users can import, and src/index.test.ts pins the list.

// Protocol core
export type {
  Address,
  AuditDraw,
  Challenge,
  Attested,
  Commit,
  CommitBatch,
  Hex,
  Outcome,
  Policy,
  ProtocolDomain,
  ReplicatePolicy,
  ResultStatus,
  Reveal,
  RevealBatch,
  SamplePolicy,
  Signed,
  SignedChallenge,
  TaskLimits,
  TaskSpec,
  Verdict,
} from './core/types.ts'
export { contentId, failureResultHash, isContentOf } from './core/contentId.ts'
export { devnetDomain, eip712Types, hashCommitBatch, hashRevealBatch, hashTaskSpec, hashVerdict } from './core/eip712.ts'
export { computeCommitment, isValidCommitBatchSignature, signCommitBatch } from './core/commit.ts'
export { isValidRevealBatchSignature, signRevealBatch } from './core/reveal.ts'
export { auditDrawOf, createVrfKey, isAudited, isValidChallengeSignature, signChallenge } from './core/challenge.ts'
export type { VrfKey } from './core/challenge.ts'
export { proveVrf, verifyVrf, vrfPublicKeyToAddress } from './core/vrf.ts'
export type { VrfProof } from './core/vrf.ts'
export { decideVerdict, isValidVerdictSignature, signVerdict } from './core/verdict.ts'
export { checkDrawBlock, checkTaskSpec, signTaskSpec, supportedRuntimes } from './core/taskSpec.ts'
export { rankCandidates } from './core/sortition.ts'
export type { Candidate } from './core/sortition.ts'
export { advanceTask, applyChallenge, applyCommit, applyReveal, nextTaskDeadline, openArbitration, openTask, rankTask, taskSeed } from './core/task.ts'
export type { TaskPhase, TaskState } from './core/task.ts'
export { decodeMessage, encodeMessage } from './core/messages.ts'
export { decodeTensor, encodeTensor } from './core/tensor.ts'
export type { Tensor } from './core/tensor.ts'
export { outputsAgree } from './core/comparison.ts'
export type { Comparison } from './core/types.ts'
export { buildEpochBatch, hashEpochBatch, outcomeLeafOf } from './core/epochBatch.ts'
export type { EpochBatch, Penalty, SettledTask } from './core/epochBatch.ts'
export { findBatchObjection } from './core/batchCheck.ts'
export { buildReceipt, isValidReceipt, parseReceipt } from './core/receipt.ts'
export type { Receipt } from './core/receipt.ts'
export type { ProtocolMessage } from './core/messages.ts'
export { DRAW_LEAD_BLOCKS, DRAW_LEAD_MS, MAX_DRAW_LEAD_BLOCKS, defaultParams } from './core/params.ts'
export type { ProtocolParams } from './core/params.ts'
export type { SignatureVerifier, Signer } from './core/signing.ts'
export {
  ChallengeRejectedError,
  CommitRejectedError,
  ExecutionAbortedError,
  MessageRejectedError,
  RevealRejectedError,
  SpecRejectedError,
  UsageError,
  VeritaskError,
} from './core/errors.ts'

// Ports and adapters
export type { Network } from './ports/network.ts'
export type { ExecutionLimits, ExecutionRequest, ExecutionResult, FailureReason, Runtime } from './ports/runtime.ts'
export type { BlobStore, BlockView, ChainView, NodeStore } from './ports/node.ts'
export { createMemoryHub } from './net/memory/createMemoryHub.ts'
export { createWasmRuntime } from './exec/wasm/index.ts'
export { createOnnxRuntime } from './exec/onnx/index.ts'
export { createStaticChainView } from './chain/memory/createStaticChainView.ts'
export { createInstantBlocks, createManualBlocks } from './chain/memory/blockSources.ts'
export { startAnvil } from './chain/anvil/startAnvil.ts'
export { deployContracts } from './chain/deploy.ts'
export { createSettlementClient, verifyReceiptOnChain } from './chain/viem/createSettlementClient.ts'
export { createGovernanceClient, GovernanceError } from './chain/viem/createGovernanceClient.ts'
export type { GovernanceClient, ParameterChange, ProposalInfo, ProposalState } from './chain/viem/createGovernanceClient.ts'
export { readNetworkParameters, readParameters } from './chain/viem/readParameters.ts'
export { networkParameters } from './chain/governance/parameters.ts'
export type { NetworkParameterName, NetworkParameterValues } from './chain/governance/parameters.ts'
export { createMemoryBlobStore, createMemoryNodeStore } from './store/memory/createMemoryStores.ts'
export { createSqliteNodeStore } from './store/sqlite/createSqliteNodeStore.ts'
export { createDiskBlobStore } from './store/disk/createDiskBlobStore.ts'
export { StoreError } from './store/errors.ts'
export { createNativeSigner, verifyNative } from './crypto/secp256k1.ts'

// HTTP API
export { createApiServer } from './api/createApiServer.ts'
export type { ApiServer, CreateApiServerParameters } from './api/createApiServer.ts'
export { ApiError } from './api/errors.ts'

// Node and devnet
export { createNode } from './node/createNode.ts'
export type { CreateNodeParameters, NodeStats, TaskStatus, VeritaskNode } from './node/createNode.ts'
export { runDevnet } from './devnet/runDevnet.ts'
export type { DevnetOptions, DevnetReport } from './devnet/runDevnet.ts'
