import { createMemoryEventStore } from '../../src/index.js';
import { describeEventStoreContract } from '../../src/testing/index.js';

describeEventStoreContract('memory store', { create: async () => createMemoryEventStore() });
