// veritask/sdk: the requester's client library. Named exports only; src/sdk/index.test.ts pins them.
export type {
  ChainInfo,
  CreateVeritaskClientParameters,
  RequesterWallet,
  VeritaskClient,
  VeritaskClientBase,
} from './createVeritaskClient.ts'
export { createVeritaskClient } from './createVeritaskClient.ts'

export type { DepositErrorType, DepositParameters, DepositReturnType } from './actions/deposit.ts'
export { deposit } from './actions/deposit.ts'
export type { GetEscrowErrorType, GetEscrowReturnType } from './actions/getEscrow.ts'
export { getEscrow } from './actions/getEscrow.ts'
export type { RequestWithdrawalErrorType, RequestWithdrawalParameters, RequestWithdrawalReturnType } from './actions/requestWithdrawal.ts'
export { requestWithdrawal } from './actions/requestWithdrawal.ts'
export type { WithdrawErrorType, WithdrawParameters, WithdrawReturnType } from './actions/withdraw.ts'
export { withdraw } from './actions/withdraw.ts'
export type { UploadProgramErrorType, UploadProgramParameters, UploadProgramReturnType } from './actions/uploadProgram.ts'
export { uploadProgram } from './actions/uploadProgram.ts'
export type { SubmitTaskErrorType, SubmitTaskParameters, SubmitTaskReturnType, TaskTerms } from './actions/submitTask.ts'
export { defaultTaskTerms, submitTask } from './actions/submitTask.ts'
export type { GetTaskErrorType, GetTaskParameters, GetTaskReturnType } from './actions/getTask.ts'
export { getTask } from './actions/getTask.ts'
export type { WaitForResultErrorType, WaitForResultParameters, WaitForResultReturnType } from './actions/waitForResult.ts'
export { waitForResult } from './actions/waitForResult.ts'
export type { GetResultErrorType, GetResultParameters, GetResultReturnType } from './actions/getResult.ts'
export { getResult } from './actions/getResult.ts'
export type { GetReceiptErrorType, GetReceiptParameters, GetReceiptReturnType } from './actions/getReceipt.ts'
export { getReceipt } from './actions/getReceipt.ts'
export type { VerifyReceiptErrorType, VerifyReceiptParameters, VerifyReceiptReturnType } from './actions/verifyReceipt.ts'
export { verifyReceipt } from './actions/verifyReceipt.ts'
export type {
  ChunkReport,
  JobProgress,
  JobReport,
  ReduceStep,
  SubmitJobErrorType,
  SubmitJobParameters,
  SubmitJobReturnType,
  TaskAttempt,
} from './actions/submitJob.ts'
export { submitJob } from './actions/submitJob.ts'

export type { Chunk, InputFile, PlanChunksParameters, SplitMode } from './chunking.ts'
export { planChunks } from './chunking.ts'
export type { ChunkOutput, ChunkOutputLeaf } from './chunkOutputs.ts'
export type { MerkleTree } from '../core/merkleTree.ts'
export { buildChunkOutputTree, chunkOutputLeafEncoding, frameOutputs, groupForReduce, isChunkOutputInRoot } from './chunkOutputs.ts'
export type { AttemptOutcome, ChunkStatus } from './jobPolicy.ts'
export { nextChunkStep } from './jobPolicy.ts'
export { readJobInput } from './readInput.ts'
export { assertWasmProgram } from './program.ts'
export type { CreateNodeApiParameters, Fetch, NodeApi, NodeApiRequest } from './nodeApi.ts'
export { createNodeApi } from './nodeApi.ts'
export type { CreateEventStreamParameters, EventStream, EventStreamState, WireEvent } from './eventStream.ts'
export { createEventStream } from './eventStream.ts'
export { formatTokens } from './formatTokens.ts'
export type { RetryPolicy } from './retry.ts'
export { backoffDelay, defaultRetryPolicy, isRetryableStatus } from './retry.ts'
export type { SdkErrorCode } from './errors.ts'
export {
  BadResponseError,
  ChainUnreachableError,
  EmptyInputError,
  InputNotFoundError,
  InsufficientEscrowError,
  InsufficientTokensError,
  InvalidProgramError,
  JobInterruptedError,
  NodeApiError,
  NodeUnreachableError,
  NoPendingWithdrawalError,
  ResultMismatchError,
  SdkError,
  TaskAnchorFailedError,
  TimeoutError,
  WithdrawalNotReadyError,
} from './errors.ts'
export type { Receipt } from '../core/receipt.ts'
export { parseReceipt, receiptToJson } from '../core/receipt.ts'
