/**
 * Every file store made in this process, writer or reader: how
 * `isFileEventStore` knows one without importing both classes (a read-only
 * open loads no writer code, and no lock library).
 */
export const fileStores = new WeakSet<object>();
