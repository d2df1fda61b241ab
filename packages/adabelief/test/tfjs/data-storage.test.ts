import { describe, expect, it } from "vitest";
import { recordReader } from "../../src/tfjs/data-storage.js";

describe("recordReader", () => {
  const known = {};
  const unknown = {};
  const rec = { memoryOffset: 64 };

  it("reads the DataStorage's WeakMap directly when there is one, never calling get", () => {
    const data = new WeakMap<object, typeof rec>([[known, rec]]);
    const storage = {
      data,
      get: () => {
        throw new Error("get must not be called (it would move data between backends)");
      },
      has: (id: object) => data.has(id),
    };
    const read = recordReader(storage);
    expect(read(known)).toBe(rec);
    expect(read(unknown)).toBeUndefined();
  });

  it("falls back to has-then-get, never calling get for an unknown id", () => {
    const asked: object[] = [];
    const storage = {
      get: (id: object) => {
        asked.push(id);
        return id === known ? rec : undefined;
      },
      has: (id: object) => id === known,
    };
    const read = recordReader(storage);
    expect(read(known)).toBe(rec);
    expect(read(unknown)).toBeUndefined();
    expect(asked).toEqual([known]);
  });
});
