import { createRequire } from 'node:module';
import {
  newQuickJSWASMModule,
  newVariant,
  RELEASE_SYNC,
  type QuickJSSyncVariant,
  type QuickJSWASMModule,
} from 'quickjs-emscripten';

const WASM_PAGE_BYTES = 64 * 1024;
/** The release-sync build declares 16 MiB of initial memory (5 MB of it Emscripten stack). */
const INITIAL_WASM_BYTES = 16 * 1024 * 1024;

/** The part of WebAssembly.Memory used here; the project's `lib` setting does not include WebAssembly types. */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}

interface WasmMemoryConstructor {
  new (descriptor: { initial: number; maximum: number }): WasmMemory;
}

const WasmMemory = (globalThis as unknown as { WebAssembly: { Memory: WasmMemoryConstructor } }).WebAssembly.Memory;

/** A loaded QuickJS module together with the gate on its linear memory. */
export interface QuickJSEngine {
  readonly module: QuickJSWASMModule;
  readonly memory: GrowthGate;
}

/**
 * Caps how far the module's WASM memory may grow. QuickJS's own memory limit is unreliable
 * under Emscripten (malloc_usable_size is unavailable, so only single allocations are checked
 * against it), and its interrupt poll is too coarse to catch a loop allocating large blocks.
 * Refusing growth makes malloc fail inside QuickJS, which surfaces as a clean, synchronous
 * "out of memory" InternalError in the guest.
 */
export class GrowthGate {
  private ceilingBytes = Number.POSITIVE_INFINITY;

  constructor(private readonly memory: WasmMemory) {
    const grow = memory.grow.bind(memory);
    // Emscripten calls grow() on the Memory object it was given, so an own property intercepts it.
    memory.grow = (deltaPages: number): number => {
      if (memory.buffer.byteLength + deltaPages * WASM_PAGE_BYTES > this.ceilingBytes) {
        throw new RangeError('sandbox memory budget exhausted');
      }
      return grow(deltaPages);
    };
  }

  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Allows at most `bytes` of growth beyond the current size, until the next call or release(). */
  limitGrowth(bytes: number): void {
    this.ceilingBytes = this.memory.buffer.byteLength + bytes;
  }

  release(): void {
    this.ceilingBytes = Number.POSITIVE_INFINITY;
  }
}

/**
 * Loads a private synchronous QuickJS module whose linear memory can never exceed
 * maxMemoryBytes (the WebAssembly.Memory maximum), and can be held tighter per run
 * through the returned GrowthGate.
 */
export async function loadQuickJS(maxMemoryBytes: number): Promise<QuickJSEngine> {
  const maximumPages = Math.floor(Math.max(INITIAL_WASM_BYTES, maxMemoryBytes) / WASM_PAGE_BYTES);
  const wasmMemory = new WasmMemory({ initial: INITIAL_WASM_BYTES / WASM_PAGE_BYTES, maximum: maximumPages });
  const memory = new GrowthGate(wasmMemory);
  const module = await newQuickJSWASMModule(newVariant(requireBasedVariant(), { wasmMemory }));
  return { module, memory };
}

/**
 * RELEASE_SYNC with its Emscripten module loaded through require() instead of import():
 * jest's CommonJS sandbox rejects dynamic import() without --experimental-vm-modules, and
 * require() works the same in plain Node. The loader package is a dependency of
 * quickjs-emscripten, so it is resolved from there rather than from this project.
 */
function requireBasedVariant(): QuickJSSyncVariant {
  const requireFromQuickJS = createRequire(require.resolve('quickjs-emscripten'));
  const emscriptenModulePath = requireFromQuickJS.resolve('@jitl/quickjs-wasmfile-release-sync/emscripten-module');
  const loadEmscriptenModule = createRequire(emscriptenModulePath);
  return {
    ...RELEASE_SYNC,
    importModuleLoader: () => Promise.resolve(loadEmscriptenModule(emscriptenModulePath)),
  };
}
