/**
 * Reading a TensorFlow.js backend's per-tensor records (the cpu backend's `data`, the wasm backend's
 * `dataIdMap`: both a `DataStorage`).
 *
 * @module
 */

/** What this module needs of a `DataStorage`. */
export interface DataStorageLike<R> {
  get(id: object): R | undefined;
  has(id: object): boolean;
  /** TensorFlow.js's `DataStorage` keeps its records in a WeakMap. */
  data?: unknown;
}

/**
 * A function returning the record of a data id, or `undefined` when the storage has none. `DataStorage.get`
 * of an id it lacks asks the other backends to move the data here, so the public way is `has` then `get`
 * (three WeakMap lookups); when the underlying WeakMap is there, it answers in one.
 */
export function recordReader<R>(storage: DataStorageLike<R>): (id: object) => R | undefined {
  const records = storage.data instanceof WeakMap ? (storage.data as WeakMap<object, R>) : null;
  return records ? (id) => records.get(id) : (id) => (storage.has(id) ? storage.get(id) : undefined);
}
