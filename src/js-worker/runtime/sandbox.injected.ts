import { WORKER_LOG_LEVELS } from './host-calls';
import { compactGuestSource } from './guest-source';

export const INJECTED_FILENAME = 'sandbox-injected.js';

/**
 * Guest-side half of the injected API NodeGet scripts use: `inlineCall`, `nodeget`, `nodegetLog`,
 * `randomUUID`, `fetch` and the web globals, and the handler context. Evaluated after the prelude,
 * before the user's module.
 *
 * Everything here is guest code over four host functions (never exposed to the script):
 * `call(kind, json)` returns a promise of the host's JSON answer (rejected with a message),
 * `log(level, namespace, message)`, `uuid()` and `source(name)` (a guest source's text). The
 * intrinsics used are captured first, so a script that rewrites JSON or Promise.prototype.then
 * only breaks its own calls.
 *
 * Only what every run needs is compiled with each run: the globals, and the intrinsics the rest
 * works with. The rest (API_SOURCE: host calls, inlineCall, nodeget, fetch, the web globals'
 * loader) is evaluated when a script first uses one of them, over the intrinsics captured here,
 * so a script that ran meanwhile cannot reach it through anything it changed.
 *
 * The web globals are accessors until first read: WEB_SOURCE and the polyfill behind the one read
 * are evaluated then, once per run. While a polyfill is being evaluated the others read as
 * undefined, so one that probes for the others (core-js looks for Headers and fetch) does not pull
 * them in or wrap them.
 *
 * Evaluates to `(host) => ({ context(json) })`; `context` builds a handler's third argument.
 */
export const INJECTED_SOURCE = compactGuestSource(`(function (host) {
  'use strict';
  const LOG_LEVELS = ${JSON.stringify(WORKER_LOG_LEVELS)};
  const global = globalThis;
  const define = Object.defineProperty;
  const freeze = Object.freeze;
  const parse = JSON.parse;
  const toText = String;
  const apply = Reflect.apply;
  const evalGlobal = (0, eval);
  const hostLog = host.log;
  const hostUuid = host.uuid;
  // What API_SOURCE works with, taken before the script runs; no prototype, so nothing added to Object.prototype shows through.
  const taken = {
    __proto__: null,
    global: global,
    define: define,
    stringify: JSON.stringify,
    parse: parse,
    toText: toText,
    apply: apply,
    evalGlobal: evalGlobal,
    ErrorCtor: Error,
    TypeErrorCtor: TypeError,
    PromiseCtor: Promise,
    then: Promise.prototype.then,
    hostCall: host.call,
    hostUuid: hostUuid,
    hostSource: host.source,
    fetchEnabled: host.fetchEnabled === true,
  };

  let api;
  function rest() {
    if (api === undefined) api = apply(evalGlobal(taken.hostSource('api')), undefined, [taken]);
    return api;
  }

  function expose(name, value) {
    define(global, name, { value: value, writable: true, configurable: true, enumerable: false });
  }

  const WEB_GLOBALS = ['Headers', 'Request', 'Response', 'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder', 'atob', 'btoa'];
  for (let i = 0; i < WEB_GLOBALS.length; i++) {
    const name = WEB_GLOBALS[i];
    define(global, name, {
      configurable: true,
      enumerable: false,
      get() {
        const loaded = rest();
        if (loaded.loading()) return undefined;
        const value = loaded.pick(name);
        expose(name, value);
        return value;
      },
      set(value) {
        expose(name, value);
      },
    });
  }

  expose('randomUUID', function randomUUID() {
    return hostUuid();
  });

  const nodegetLog = {};
  for (let i = 0; i < LOG_LEVELS.length; i++) {
    const level = LOG_LEVELS[i];
    nodegetLog[level] = function (namespace, message) {
      const space = namespace === undefined || namespace === null || namespace === '' ? 'default' : toText(namespace);
      hostLog(level, space, toText(message));
    };
  }
  nodegetLog.log = nodegetLog.info;
  expose('nodegetLog', freeze(nodegetLog));

  function inlineCall(name, params, timeoutSec) {
    return apply(rest().inlineCall, undefined, arguments);
  }
  expose('inlineCall', inlineCall);
  expose('nodeget', function nodeget(request, params, id) {
    return apply(rest().nodeget, undefined, arguments);
  });
  expose('fetch', function fetch(input, init) {
    return apply(rest().fetch, undefined, arguments);
  });

  return {
    context(json) {
      const ctx = parse(json);
      ctx.inlineCall = inlineCall;
      return ctx;
    },
  };
})`);

/**
 * The injected API's code that runs only when a script uses it (see INJECTED_SOURCE). Evaluates to
 * `(taken) => ({ loading(), pick(name), inlineCall, nodeget, fetch })` over the intrinsics and host
 * functions INJECTED_SOURCE took.
 */
export const API_SOURCE = compactGuestSource(`(function (taken) {
  'use strict';
  const stringify = taken.stringify;
  const parse = taken.parse;
  const toText = taken.toText;
  const apply = taken.apply;
  const evalGlobal = taken.evalGlobal;
  const ErrorCtor = taken.ErrorCtor;
  const TypeErrorCtor = taken.TypeErrorCtor;
  const PromiseCtor = taken.PromiseCtor;
  const then = taken.then;
  const rejected = (error) => PromiseCtor.reject(error);
  const hostCall = taken.hostCall;
  const hostUuid = taken.hostUuid;
  const hostSource = taken.hostSource;
  const fetchEnabled = taken.fetchEnabled;

  function messageOf(error) {
    try {
      return error !== null && typeof error === 'object' ? toText(error.message) : toText(error);
    } catch (e) {
      return 'unknown error';
    }
  }

  // Host answers are JSON text; refusals are messages, thrown here as Errors carrying them.
  function callHost(kind, payload) {
    return apply(then, hostCall(kind, payload), [
      (json) => (json === undefined ? undefined : parse(json)),
      (message) => {
        throw new ErrorCtor(toText(message));
      },
    ]);
  }

  // ---- web globals: their code is evaluated on first read (WEB_SOURCE) ----
  let loading = 0;
  const modules = {};
  // extra: the value of the polyfill's own extra parameter, if it has one (sandbox.polyfills.ts).
  function load(name, extra) {
    if (modules[name] !== undefined) return modules[name];
    loading++;
    try {
      const factory = evalGlobal(hostSource(name));
      const holder = {};
      const mod = { exports: holder };
      apply(factory, holder, [holder, mod, holder, undefined, undefined, undefined, extra]);
      modules[name] = mod.exports;
    } finally {
      loading--;
    }
    return modules[name];
  }

  let webApi;
  function web() {
    if (webApi === undefined) {
      webApi = apply(evalGlobal(hostSource('web')), undefined, [{ load: load, callHost: callHost, messageOf: messageOf }]);
    }
    return webApi;
  }

  function inlineCall(name, params, timeoutSec) {
    if (typeof name !== 'string' || name === '') {
      return rejected(new TypeErrorCtor('inlineCall: js_worker_name must be a non-empty string'));
    }
    const noTimeout = timeoutSec === undefined || timeoutSec === null;
    if (!noTimeout && !(typeof timeoutSec === 'number' && timeoutSec > 0 && timeoutSec < Infinity)) {
      return rejected(new TypeErrorCtor('inlineCall: timeout_sec must be a positive finite number of seconds'));
    }
    let payload;
    try {
      payload = stringify({ name: name, params: params, timeout_sec: noTimeout ? null : timeoutSec });
    } catch (error) {
      return rejected(new TypeErrorCtor('inlineCall: params are not JSON-serialisable (' + messageOf(error) + ')'));
    }
    return callHost('inline', payload);
  }

  // nodeget(request) takes a whole request (object, array for a batch, or its JSON text);
  // nodeget(method, params, id?) builds one, with a random id when none is given.
  function nodeget(request, params, id) {
    let text;
    try {
      if (arguments.length >= 2) {
        if (typeof request !== 'string') throw new TypeErrorCtor('the method must be a string');
        text = stringify({ jsonrpc: '2.0', method: request, params: params, id: arguments.length >= 3 ? id : hostUuid() });
      } else if (typeof request === 'string') {
        text = request;
      } else if (request !== null && typeof request === 'object') {
        text = stringify(request);
      } else {
        throw new TypeErrorCtor('expected a request object, an array of them, or their JSON text');
      }
    } catch (error) {
      return rejected(new TypeErrorCtor('nodeget: ' + messageOf(error)));
    }
    return callHost('nodeget', text);
  }

  // Without WORKER_FETCH_ALLOW the name exists (scripts may test for it) but every call is refused.
  function fetch(input, init) {
    if (!fetchEnabled) {
      return rejected(new TypeErrorCtor('fetch: disabled: this server allows scripts no network access (WORKER_FETCH_ALLOW is empty)'));
    }
    return web().fetch(input, init);
  }

  return {
    __proto__: null,
    loading: () => loading > 0,
    pick: (name) => web().pick(name),
    inlineCall: inlineCall,
    nodeget: nodeget,
    fetch: fetch,
  };
})`);

/**
 * The guest code behind the web globals and fetch, evaluated in a run only when the script first
 * reads one of them (it is most of the injected code, and most runs use none of it). Evaluates to
 * `(shared) => ({ pick(name), fetch(input, init) })`, `shared` being the core's `load`, `callHost`
 * and `messageOf`.
 */
export const WEB_SOURCE = compactGuestSource(`(function (shared) {
  'use strict';
  const define = Object.defineProperty;
  const getOwn = Object.getOwnPropertyDescriptor;
  const stringify = JSON.stringify;
  const toText = String;
  const apply = Reflect.apply;
  const TypeErrorCtor = TypeError;
  const PromiseCtor = Promise;
  const then = Promise.prototype.then;
  const global = globalThis;
  const rejected = (error) => PromiseCtor.reject(error);
  const load = shared.load;
  const callHost = shared.callHost;
  const messageOf = shared.messageOf;

  // core-js defines URL and URLSearchParams on the global object (through the setters below).
  let urlGlobals;
  function urlModule() {
    if (urlGlobals === undefined) {
      load('url');
      const url = getOwn(global, 'URL');
      const params = getOwn(global, 'URLSearchParams');
      urlGlobals = { URL: url && url.value, URLSearchParams: params && params.value };
    }
    return urlGlobals;
  }

  // whatwg-fetch checks every body that is not a string (none included: every Request of a route)
  // against URLSearchParams; the global would load core-js's URL (about 10 ms) for a check that
  // cannot succeed before it is loaded. So it is given this instead.
  const searchParamsProbe = {
    get prototype() {
      return urlGlobals === undefined ? {} : urlGlobals.URLSearchParams.prototype;
    },
  };

  let fetchClasses;
  function fetchModule() {
    if (fetchClasses === undefined) {
      const m = load('fetch', searchParamsProbe);
      fetchClasses = { Headers: m.Headers, Request: m.Request, Response: m.Response };
      patchBody(m.Request.prototype);
      patchBody(m.Response.prototype);
      addResponseJson(m.Response, m.Headers);
    }
    return fetchClasses;
  }

  // whatwg-fetch reads byte bodies as Latin-1 and cannot turn text into bytes without Blob:
  // both are done here as UTF-8, as the Fetch standard says.
  function patchBody(proto) {
    const text = proto.text;
    const arrayBuffer = proto.arrayBuffer;
    const consume = (body) => {
      if (body._noBody) return undefined;
      if (body.bodyUsed) return rejected(new TypeErrorCtor('Already read'));
      body.bodyUsed = true;
      return undefined;
    };
    proto.text = function () {
      if (!this._bodyArrayBuffer) return apply(text, this, []);
      const refused = consume(this);
      if (refused !== undefined) return refused;
      return PromiseCtor.resolve(new (encoding().TextDecoder)().decode(this._bodyArrayBuffer));
    };
    proto.arrayBuffer = function () {
      if (this._bodyArrayBuffer || typeof this._bodyText !== 'string') return apply(arrayBuffer, this, []);
      const refused = consume(this);
      if (refused !== undefined) return refused;
      return PromiseCtor.resolve(new (encoding().TextEncoder)().encode(this._bodyText).buffer);
    };
  }

  function addResponseJson(Response, Headers) {
    define(Response, 'json', {
      configurable: true,
      writable: true,
      value: function json(data, init) {
        const body = stringify(data);
        if (body === undefined) throw new TypeErrorCtor('Response.json: data is not JSON-serialisable');
        const options = init === undefined || init === null ? {} : init;
        const headers = new Headers(options.headers);
        if (!headers.has('content-type')) headers.set('content-type', 'application/json');
        return new Response(body, { status: options.status, statusText: options.statusText, headers: headers });
      },
    });
  }

  function encoding() {
    return load('encoding');
  }

  function base64() {
    return load('base64');
  }

  const pickers = {
    Headers: () => fetchModule().Headers,
    Request: () => fetchModule().Request,
    Response: () => fetchModule().Response,
    URL: () => urlModule().URL,
    URLSearchParams: () => urlModule().URLSearchParams,
    TextEncoder: () => encoding().TextEncoder,
    TextDecoder: () => encoding().TextDecoder,
    atob: () => function atob(data) {
      return base64().decode(toText(data));
    },
    btoa: () => function btoa(data) {
      return base64().encode(toText(data));
    },
  };

  function fetch(input, init) {
    let payload;
    try {
      const classes = fetchModule();
      const request = new classes.Request(input, init);
      const headers = [];
      request.headers.forEach((value, key) => headers.push([key, value]));
      payload = { url: request.url, method: request.method, headers: headers, body: request._bodyText, bodyBase64: undefined };
      if (request._bodyArrayBuffer) {
        const bytes = new Uint8Array(request._bodyArrayBuffer);
        let binary = '';
        for (let i = 0; i < bytes.length; i++) binary += toText.fromCharCode(bytes[i]);
        payload.body = undefined;
        payload.bodyBase64 = base64().encode(binary);
      }
      payload = stringify(payload);
    } catch (error) {
      return rejected(new TypeErrorCtor('fetch: ' + messageOf(error)));
    }
    return apply(then, callHost('fetch', payload), [
      (answer) => {
        const classes = fetchModule();
        const binary = base64().decode(answer.bodyBase64);
        const bytes = new Uint8Array(binary.length);
        for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
        const nullBody = answer.status === 204 || answer.status === 205 || answer.status === 304;
        const response = new classes.Response(nullBody ? null : bytes, { status: answer.status, statusText: answer.statusText, headers: answer.headers });
        define(response, 'url', { value: answer.url, enumerable: true });
        define(response, 'redirected', { value: answer.redirected === true, enumerable: true });
        return response;
      },
      // A fetch that fails is a TypeError, as the Fetch standard has it.
      (error) => {
        throw new TypeErrorCtor(messageOf(error));
      },
    ]);
  }

  return {
    pick: (name) => pickers[name](),
    fetch: fetch,
  };
})`);
