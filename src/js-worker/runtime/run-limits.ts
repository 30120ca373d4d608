import type { RunLimits } from './runtime.types';

export type ResolvedLimits = Required<RunLimits>;

const KiB = 1024;
const MiB = 1024 * KiB;

export const DEFAULT_LIMITS: Readonly<ResolvedLimits> = Object.freeze({
  maxRunTimeMs: 30_000,
  maxHeapBytes: 8 * MiB,
  maxStackBytes: 1 * MiB,
});

/**
 * Bounds every caller-supplied limit can be clamped into.
 * - Heap below 1 MiB cannot even hold a fresh QuickJS context.
 * - Heap above 128 MiB would not fit the worker's fixed WASM memory (see WORKER_WASM_MEMORY_MAX_BYTES).
 * - QuickJS's stack check measures the 5 MB Emscripten shadow stack, so 4 MiB keeps it below that,
 *   and the worker's native stack is sized from this cap (see NATIVE_STACK_PER_QUICKJS_BYTE).
 */
export const LIMIT_BOUNDS = Object.freeze({
  maxRunTimeMs: { min: 1, max: 3_600_000 },
  maxHeapBytes: { min: 1 * MiB, max: 128 * MiB },
  maxStackBytes: { min: 64 * KiB, max: 4 * MiB },
});

/**
 * Nested calls through C built-ins (valueOf, toPrimitive, comparisons) spend up to ~6 bytes of V8
 * native stack per byte of QuickJS stack; if V8 overflows first, the exception unwinds through WASM
 * without restoring QuickJS's state, so the native stack must always be the larger one.
 */
export const NATIVE_STACK_PER_QUICKJS_BYTE = 8;

/** Linear memory cap of a worker's QuickJS module; the hard stop for allocations QuickJS does not account. */
export const WORKER_WASM_MEMORY_MAX_BYTES = 256 * MiB;

/** A worker whose linear memory grew past this is replaced after its run, giving the memory back to the OS. */
export const WORKER_RECYCLE_MEMORY_BYTES = 64 * MiB;

export function resolveLimits(limits: RunLimits | undefined): ResolvedLimits {
  return {
    maxRunTimeMs: pick(limits?.maxRunTimeMs, 'maxRunTimeMs'),
    maxHeapBytes: pick(limits?.maxHeapBytes, 'maxHeapBytes'),
    maxStackBytes: pick(limits?.maxStackBytes, 'maxStackBytes'),
  };
}

function pick(value: unknown, key: keyof ResolvedLimits): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return DEFAULT_LIMITS[key];
  const { min, max } = LIMIT_BOUNDS[key];
  return Math.min(max, Math.max(min, Math.floor(value)));
}
