import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { IsString } from 'class-validator';
import { rpcParamsClass } from './rpc-args.decorator';
import { RPC_CONTROLLER_METADATA } from './rpc-controller.decorator';
import { RPC_METHOD_METADATA, type RpcMethodDeclaration } from './rpc-method.decorator';
import { ParamGroup, Positional, positionalParams } from './rpc-params.positions';
import { Param, ParsedBy } from './rpc-params.validator';

const asIs = (raw: unknown) => raw;

/** Declared in the order they are checked (the token last), placed in the order they are sent. */
class ProbeParams {
  @Positional(1)
  @ParsedBy(asIs, 'target_name')
  target: string;

  @Positional(0)
  @Param()
  @IsString()
  token: string;
}

class ProbeLimits {
  @Positional(2)
  @ParsedBy(asIs, 'max_a')
  maxA: number;

  @Positional(3)
  @ParsedBy(asIs, 'max_b')
  maxB: number;
}

class GroupedProbeParams extends ProbeParams {
  @ParamGroup(ProbeLimits)
  limits: ProbeLimits;

  @Positional(4)
  @ParsedBy(asIs)
  extra: unknown;
}

describe(positionalParams.name, () => {
  const sut = positionalParams;
  const refusal = (dtoClass: Function) => {
    try {
      sut(dtoClass);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  };

  it('orders the wire names by their declared positions, not by declaration order', () => {
    expect(sut(ProbeParams)).toEqual(['token', 'target_name']);
  });

  it("counts a group's params and a parent's params as the DTO's own", () => {
    expect(sut(GroupedProbeParams)).toEqual(['token', 'target_name', 'max_a', 'max_b', 'extra']);
  });

  it('refuses a param without a position, naming where it is declared', () => {
    class Unplaced {
      @Positional(0)
      @Param()
      token: string;

      @Param('page_size')
      pageSize: number;
    }
    expect(refusal(Unplaced)).toBe('Unplaced.pageSize (param "page_size") has no position in positional calls: give it @Positional(n)');
  });

  it('refuses two params at one position, and a gap', () => {
    class Twice {
      @Positional(0)
      @Param()
      a: string;

      @Positional(0)
      @Param()
      b: string;
    }
    class Gap {
      @Positional(0)
      @Param()
      a: string;

      @Positional(2)
      @Param()
      b: string;
    }
    expect(refusal(Twice)).toBe('Twice: positions must run from 0 to 1, each once; declared: 0 a, 0 b');
    expect(refusal(Gap)).toBe('Gap: positions must run from 0 to 1, each once; declared: 0 a, 2 b');
  });

  it('refuses a position on a property that reads no param, and one wire name read twice', () => {
    class NoParam {
      @Positional(0)
      orphan: string;
    }
    class ReadTwice {
      @Positional(0)
      @Param('name')
      a: string;

      @Positional(1)
      @ParsedBy(asIs, 'name')
      b: string;
    }
    expect(refusal(NoParam)).toBe('NoParam.orphan has @Positional(0) but reads no param (it has no @Param or @ParsedBy)');
    expect(refusal(ReadTwice)).toBe('param "name" is read by both ReadTwice.a and ReadTwice.b');
  });

  it('refuses a position that is not an index', () => {
    expect(() => Positional(-1)).toThrow('@Positional(-1): a position is an integer from 0');
    expect(() => Positional(1.5)).toThrow('@Positional(1.5): a position is an integer from 0');
  });
});

/** Every `*.rpc-controller.ts` under src/, loaded by path: json-rpc/ does not import features. */
function rpcControllerFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return rpcControllerFiles(path);
    return entry.name.endsWith('.rpc-controller.ts') ? [path] : [];
  });
}

interface FoundMethod {
  name: string;
  dtoClass: Function | undefined;
  doc: RpcMethodDeclaration['doc'];
}

const servedParams = ({ dtoClass }: FoundMethod): string[] => (dtoClass === undefined ? [] : [...positionalParams(dtoClass)]);

function rpcMethodsOf(controller: Function): FoundMethod[] {
  const prototype = controller.prototype as Record<string, unknown>;
  return Object.getOwnPropertyNames(prototype).flatMap((methodName) => {
    const handler = prototype[methodName];
    if (methodName === 'constructor' || typeof handler !== 'function') return [];
    const declaration: RpcMethodDeclaration | undefined = Reflect.getMetadata(RPC_METHOD_METADATA, handler);
    return declaration === undefined ? [] : [{ name: declaration.name, dtoClass: rpcParamsClass(prototype, methodName), doc: declaration.doc }];
  });
}

describe("every JSON-RPC method's positional params", () => {
  const src = join(__dirname, '..');
  const methods = new Map<string, FoundMethod>();

  beforeAll(async () => {
    for (const file of rpcControllerFiles(src)) {
      const exported: Record<string, unknown> = await import(file);
      for (const value of Object.values(exported)) {
        if (typeof value !== 'function' || Reflect.getMetadata(RPC_CONTROLLER_METADATA, value) !== true) continue;
        for (const method of rpcMethodsOf(value)) {
          if (methods.has(method.name)) throw new Error(`${method.name} is declared twice (again in ${relative(src, file)})`);
          methods.set(method.name, method);
        }
      }
    }
  });

  it('are declared consistently on each DTO: every param field placed once, positions 0..n-1', () => {
    const refused = [...methods.values()].flatMap(({ name, dtoClass }) => {
      try {
        if (dtoClass !== undefined) positionalParams(dtoClass);
        return [];
      } catch (error) {
        return [`${name}: ${(error as Error).message}`];
      }
    });
    expect(refused).toEqual([]);
  });

  it("are the lists the generated client sends (the API reference's), method by method", async () => {
    const { METHOD_PARAMS } = (await import(join(src, 'client', 'methods.generated'))) as { METHOD_PARAMS: Record<string, readonly string[]> };
    const served = Object.fromEntries([...methods.values()].map((method) => [method.name, servedParams(method)]));
    expect(served).toEqual(Object.fromEntries(Object.entries(METHOD_PARAMS).map(([name, params]) => [name, [...params]])));
  });

  it("are the params each method's OpenRPC doc gives a schema, no more and no fewer", () => {
    const described = [...methods.values()].filter((method) => method.doc !== undefined);
    expect(described.length).toBeGreaterThan(0);
    for (const method of described) {
      expect({ method: method.name, params: Object.keys(method.doc!.params).sort() }).toEqual({ method: method.name, params: servedParams(method).sort() });
    }
  });
});
