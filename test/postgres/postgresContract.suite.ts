import { afterAll, describe } from 'vitest';
import { openPostgresEventStore, type PostgresEventStore } from '../../src/postgres.js';
import { describeEventStoreContract } from '../../src/testing/index.js';
import { dropTestSchemas, freshSchema, HAVE_POSTGRES, TEST_POSTGRES_URL } from './pgTestServer.js';

describe.skipIf(!HAVE_POSTGRES)('PostgreSQL store', () => {
  afterAll(dropTestSchemas);
  describeEventStoreContract('postgres store', {
    create: async () => openPostgresEventStore({ url: TEST_POSTGRES_URL, schema: freshSchema(), maxConnections: 4 }),
    reopen: async (store) => {
      await store.close();
      return openPostgresEventStore({ url: TEST_POSTGRES_URL, schema: (store as PostgresEventStore).schema, maxConnections: 4 });
    },
  });
});
