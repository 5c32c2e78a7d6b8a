import { describeBlobStoreCompliance, describeNodeStoreCompliance } from '../../../test/helpers/storeCompliance.ts'
import { createMemoryBlobStore, createMemoryNodeStore } from './createMemoryStores.ts'

describeNodeStoreCompliance('memory', () => ({ store: createMemoryNodeStore(), cleanup: () => {} }))
describeBlobStoreCompliance('memory', () => ({ store: createMemoryBlobStore(), cleanup: () => {} }))
