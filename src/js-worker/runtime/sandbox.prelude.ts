import { CONSOLE_LEVELS } from './console.capture';
import { HANDLER_NAMES } from './runtime.types';
import { compactGuestSource } from './guest-source';

export const PRELUDE_FILENAME = 'sandbox-prelude.js';

/**
 * Guest-side half of the sandbox, evaluated before the user's module.
 *
 * It runs inside QuickJS so that every touch of user objects (getters, proxies, toJSON,
 * thenables) happens under the sandbox's interrupt handler and exception handling, instead
 * of host-side property reads that cannot report guest exceptions. It captures the
 * intrinsics it needs up front, so a script that rewrites JSON or Array.prototype can only
 * break its own output, never the host protocol.
 *
 * What only console output and error descriptions need (PRELUDE_REST_SOURCE) is evaluated the
 * first time one is wanted, over the intrinsics captured here, rather than compiled with every run.
 *
 * Evaluates to `(emit, restSource) => helpers`; `emit(level, text)` is the host's console sink and
 * returns false once the capture budget is spent; `restSource()` is PRELUDE_REST_SOURCE's text.
 */
export const PRELUDE_SOURCE = compactGuestSource(`(function (emit, restSource) {
  'use strict';
  const LEVELS = ${JSON.stringify(CONSOLE_LEVELS)};
  const HANDLERS = ${JSON.stringify(HANDLER_NAMES)};
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const apply = Reflect.apply;
  const getOwn = Object.getOwnPropertyDescriptor;
  const protoOf = Object.getPrototypeOf;
  const define = Object.defineProperty;
  const evalGlobal = (0, eval);
  const resolvePromise = (value) => Promise.resolve(value);
  const MAX_PROTO_DEPTH = 64;

  const isObjectLike = (v) => v !== null && (typeof v === 'object' || typeof v === 'function');

  // Reads a data property along the prototype chain without running accessors.
  function dataProp(target, key) {
    let o = target;
    for (let depth = 0; depth < MAX_PROTO_DEPTH && isObjectLike(o); depth++) {
      const d = getOwn(o, key);
      if (d !== undefined) return 'value' in d ? d.value : undefined;
      o = protoOf(o);
    }
    return undefined;
  }

  // What PRELUDE_REST_SOURCE works with, taken before the script runs.
  const taken = {
    __proto__: null,
    emit: emit,
    stringify: stringify,
    toText: String,
    protoOf: protoOf,
    ErrorProto: Error.prototype,
    MAX_PROTO_DEPTH: MAX_PROTO_DEPTH,
    isObjectLike: isObjectLike,
    dataProp: dataProp,
  };
  let rest;
  function more() {
    if (rest === undefined) rest = apply(evalGlobal(restSource()), undefined, [taken]);
    return rest;
  }

  function show(v) {
    return more().show(v);
  }

  function writer(level) {
    return function () {
      more().write(level, arguments);
    };
  }
  const consoleObject = {};
  for (let i = 0; i < LEVELS.length; i++) consoleObject[LEVELS[i]] = writer(LEVELS[i]);
  define(globalThis, 'console', { value: consoleObject, writable: true, configurable: true, enumerable: false });

  function defaultExport(ns) {
    const d = dataProp(ns, 'default');
    return d !== null && typeof d === 'object' ? d : undefined;
  }

  const decode = (json) => (json === undefined ? undefined : parse(json));

  return {
    // Comma-separated handler names the default export provides, or null when it is not an object.
    handlers(ns) {
      const d = defaultExport(ns);
      if (d === undefined) return null;
      let found = '';
      for (let i = 0; i < HANDLERS.length; i++) {
        if (typeof d[HANDLERS[i]] === 'function') found += (found === '' ? '' : ',') + HANDLERS[i];
      }
      return found;
    },
    // ctx arrives built (an object from the injected API), or as JSON text.
    invoke(ns, name, params, env, ctx) {
      const d = defaultExport(ns);
      const context = typeof ctx === 'string' ? decode(ctx) : ctx;
      const result = apply(d[name], d, [decode(params), decode(env), context]);
      return isObjectLike(result) && typeof result.then === 'function' ? resolvePromise(result) : result;
    },
    // For the onRoute helper (sandbox.route.ts), built only on route runs.
    defaultExport: defaultExport,
    show: show,
    // undefined means "not representable as JSON"; cycles and BigInt throw.
    serialise(value) {
      if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
      return stringify(value);
    },
    describe(error) {
      return more().describe(error);
    },
  };
})`);

/**
 * The prelude's console formatting and error descriptions, evaluated on first use (see
 * PRELUDE_SOURCE). Evaluates to `(taken) => ({ show, write(level, args), describe })`.
 */
export const PRELUDE_REST_SOURCE = compactGuestSource(`(function (taken) {
  'use strict';
  const emit = taken.emit;
  const stringify = taken.stringify;
  const toText = taken.toText;
  const protoOf = taken.protoOf;
  const ErrorProto = taken.ErrorProto;
  const MAX_PROTO_DEPTH = taken.MAX_PROTO_DEPTH;
  const isObjectLike = taken.isObjectLike;
  const dataProp = taken.dataProp;

  function isError(v) {
    let o = v;
    for (let depth = 0; depth < MAX_PROTO_DEPTH && isObjectLike(o); depth++) {
      o = protoOf(o);
      if (o === ErrorProto) return true;
    }
    return false;
  }

  function show(v) {
    switch (typeof v) {
      case 'string': return v;
      case 'bigint': return toText(v) + 'n';
      case 'function': return '[Function ' + (toText(dataProp(v, 'name') || '') || 'anonymous') + ']';
      case 'object': break;
      default: return toText(v);
    }
    if (isError(v)) return toText(dataProp(v, 'name')) + ': ' + toText(dataProp(v, 'message'));
    try {
      const s = stringify(v);
      return s === undefined ? toText(v) : s;
    } catch (e) {
      return '[unserialisable object]';
    }
  }

  let accepting = true;
  function write(level, args) {
    if (!accepting) return;
    let text = '';
    for (let i = 0; i < args.length; i++) text += (i === 0 ? '' : ' ') + show(args[i]);
    accepting = emit(level, text) === true;
  }

  function describe(error) {
    if (!isError(error)) return stringify({ thrown: show(error) });
    const stack = dataProp(error, 'stack');
    const lineNumber = dataProp(error, 'lineNumber');
    return stringify({
      name: toText(dataProp(error, 'name')),
      message: toText(dataProp(error, 'message')),
      stack: typeof stack === 'string' ? stack.slice(0, 2048) : '',
      lineNumber: typeof lineNumber === 'number' ? lineNumber : undefined,
    });
  }

  return { __proto__: null, show: show, write: write, describe: describe };
})`);
