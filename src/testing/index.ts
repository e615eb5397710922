export { describeEventStoreContract, sampleEvent, type EventStoreContractFactory } from './storeContract.js';
