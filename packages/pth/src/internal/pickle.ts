// A pickle virtual machine for the subset of protocols 0–5 that torch.save files use. It never
// executes anything: GLOBAL names resolve through a fixed whitelist (see ./globals.ts), anything
// else is a one-line error naming the global.
import { PyDict, PyTuple } from '../py.js';

/** Opcode names by byte, for error messages. */
export const OPCODE_NAMES: Readonly<Record<number, string>> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT',
  0x4a: 'BININT', 0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID',
  0x51: 'BINPERSID', 0x52: 'REDUCE', 0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND', 0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT',
  0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET', 0x69: 'INST', 0x6a: 'LONG_BINGET',
  0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT',
  0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT', 0x80: 'PROTO',
  0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3',
  0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES',
  0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS',
  0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

/** A whitelisted Python callable or class, as a GLOBAL pushes it. */
export class PyCallable {
  constructor(
    readonly qualname: string,
    /** `f(*args)` (REDUCE), also `cls.__new__(cls, *args)` (NEWOBJ) unless `construct` is given. */
    readonly call: (args: unknown[], vm: PickleContext) => unknown,
    readonly construct?: (args: unknown[], vm: PickleContext) => unknown,
  ) {}
}

/** A class instance whose state a BUILD opcode sets. */
export interface Buildable {
  pickleBuild(state: unknown, vm: PickleContext): void;
}

function isBuildable(x: unknown): x is Buildable {
  return typeof x === 'object' && x !== null && typeof (x as Partial<Buildable>).pickleBuild === 'function';
}

/** What the VM needs from its caller. */
export interface PickleContext {
  /** The file name for error messages. */
  source: string;
  /** Where the pickle is, for error messages (`byte 12 of archive/data.pkl`). */
  where: string;
  /** `GLOBAL module name` → a value (usually a {@link PyCallable}); undefined if not allowed. */
  resolveGlobal(module: string, name: string): unknown;
  /** The value of a persistent id (BINPERSID / PERSID). */
  persistentLoad(pid: unknown): unknown;
  /** Throws a PthError naming the source. */
  fail(what: string): never;
}

const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

/** Integer from a Python int's two's-complement little-endian bytes; a number when safe. */
export function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  if (bytes[bytes.length - 1]! & 0x80) v -= 1n << BigInt(bytes.length * 8);
  return narrowInt(v);
}

/** A bigint as a number when it is within ±2^53, else unchanged. */
export function narrowInt(v: bigint): number | bigint {
  return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v;
}

/**
 * Runs the pickle that starts at `start` in `bytes` up to its STOP opcode.
 * @returns the unpickled value and the index just after STOP.
 */
export function unpickle(bytes: Uint8Array, start: number, ctx: PickleContext): { value: unknown; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length;
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let p = start;
  let op = 0;
  let opAt = start;

  const fail = (what: string, note?: string): never => ctx.fail(`${what} at byte ${opAt} of ${ctx.where}${note ? ` (${note})` : ''}`);
  const need = (k: number): number => {
    if (p + k > n) fail(`truncated pickle (${OPCODE_NAMES[op] ?? 'opcode'} needs ${k} more bytes)`);
    const at = p;
    p += k;
    return at;
  };
  const u8 = (): number => bytes[need(1)]!;
  const u16 = (): number => view.getUint16(need(2), true);
  const u32 = (): number => view.getUint32(need(4), true);
  const u64 = (): number => {
    const at = need(8);
    const v = view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
    if (!Number.isSafeInteger(v)) fail('length too large');
    return v;
  };
  const take = (k: number): Uint8Array => {
    const at = need(k);
    return bytes.subarray(at, at + k);
  };
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, p);
    if (nl < 0) fail(`truncated pickle (${OPCODE_NAMES[op]} argument has no newline)`);
    const s = latin1.decode(bytes.subarray(p, nl));
    p = nl + 1;
    return s.endsWith('\r') ? s.slice(0, -1) : s;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]!)) fail(`${OPCODE_NAMES[op]} on an empty stack`);
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail(`${OPCODE_NAMES[op]} on an empty stack`);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const k = marks.pop();
    if (k === undefined) fail(`${OPCODE_NAMES[op]} without a MARK`);
    return stack.splice(k!);
  };
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) fail(`memo entry ${i} read before it was written`);
    return memo.get(i);
  };
  const global = (module: string, name: string): unknown => {
    const v = ctx.resolveGlobal(module, name);
    if (v === undefined) {
      const note = name === '_load_from_bytes' ? 'a storage pickled by pickle, not torch.save' : 'only tensors, storages and plain containers are read; nothing is executed';
      fail(`unsupported global ${module}.${name}`, note);
    }
    return v;
  };
  const callable = (f: unknown): PyCallable => {
    if (!(f instanceof PyCallable)) fail(`${OPCODE_NAMES[op]} on ${describe(f)}, not a callable global`);
    return f as PyCallable;
  };
  const asArgs = (a: unknown): unknown[] => {
    if (!Array.isArray(a)) fail(`${OPCODE_NAMES[op]} arguments are ${describe(a)}, not a tuple`);
    return a as unknown[];
  };
  const setItems = (d: unknown, items: unknown[]): void => {
    if (!(d instanceof Map)) fail(`${OPCODE_NAMES[op]} on ${describe(d)}, not a dict`);
    if (items.length % 2) fail(`${OPCODE_NAMES[op]} with an odd number of items`);
    for (let i = 0; i < items.length; i += 2) (d as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const appendItems = (l: unknown, items: unknown[]): void => {
    if (!Array.isArray(l) || l instanceof PyTuple) fail(`${OPCODE_NAMES[op]} on ${describe(l)}, not a list`);
    for (const it of items) (l as unknown[]).push(it);
  };
  const str = (b: Uint8Array): string => utf8.decode(b);

  for (;;) {
    opAt = p;
    if (p >= n) fail('truncated pickle (no STOP opcode)');
    op = bytes[p++]!;
    switch (op) {
      case 0x80: { // PROTO
        const v = u8();
        if (v > 5) fail(`unsupported pickle protocol ${v}`);
        break;
      }
      case 0x95: // FRAME: an 8-byte length; frames only group opcodes
        u64();
        break;
      case 0x2e: { // STOP
        const value = pop();
        return { value, end: p };
      }
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (marks.length > 0 && marks[marks.length - 1] === stack.length) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      // ---- constants and numbers
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x4a: stack.push(view.getInt32(need(4), true)); break; // BININT
      case 0x8a: stack.push(decodeLong(take(u8()))); break; // LONG1
      case 0x8b: { // LONG4
        const k = view.getInt32(need(4), true);
        if (k < 0) fail('LONG4 with a negative length');
        stack.push(decodeLong(take(k)));
        break;
      }
      case 0x49: { // INT (text); "I01"/"I00" are protocol 0's True/False
        const s = line();
        if (s === '01') stack.push(true);
        else if (s === '00') stack.push(false);
        else stack.push(parseIntText(s, fail));
        break;
      }
      case 0x4c: // LONG (text, "123L")
        stack.push(parseIntText(line().replace(/L$/, ''), fail));
        break;
      case 0x47: stack.push(view.getFloat64(need(8), false)); break; // BINFLOAT (big-endian)
      case 0x46: { // FLOAT (text)
        const s = line();
        const v = Number(s);
        if (Number.isNaN(v) && !/^[+-]?nan$/i.test(s)) fail(`bad FLOAT ${JSON.stringify(s)}`);
        stack.push(v);
        break;
      }
      // ---- strings and bytes
      case 0x58: stack.push(str(take(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(str(take(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(str(take(u64()))); break; // BINUNICODE8
      case 0x56: stack.push(decodeRawUnicodeEscape(line())); break; // UNICODE (text)
      case 0x54: { // BINSTRING (Python 2 str; torch.load decodes it as UTF-8)
        const k = view.getInt32(need(4), true);
        if (k < 0) fail('BINSTRING with a negative length');
        stack.push(str(take(k)));
        break;
      }
      case 0x55: stack.push(str(take(u8()))); break; // SHORT_BINSTRING
      case 0x53: stack.push(decodeStringRepr(line(), fail)); break; // STRING (text repr)
      case 0x42: stack.push(take(u32())); break; // BINBYTES
      case 0x43: stack.push(take(u8())); break; // SHORT_BINBYTES
      case 0x8e: stack.push(take(u64())); break; // BINBYTES8
      case 0x96: stack.push(take(u64()).slice()); break; // BYTEARRAY8 (mutable in Python: a copy)
      // ---- containers
      case 0x29: stack.push(new PyTuple()); break; // EMPTY_TUPLE
      case 0x85: stack.push(PyTuple.of(pop())); break; // TUPLE1
      case 0x86: { // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(PyTuple.of(a, b));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(PyTuple.of(a, b, c));
        break;
      }
      case 0x74: stack.push(PyTuple.from(popMark())); break; // TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x61: { // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x64: { // DICT
        const d = new PyDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: stack.push(new Set()); break; // EMPTY_SET
      case 0x90: { // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail(`ADDITEMS on ${describe(s)}, not a set`);
        for (const it of items) (s as Set<unknown>).add(it);
        break;
      }
      case 0x91: stack.push(new Set(popMark())); break; // FROZENSET
      // ---- memo
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x70: memo.set(parseIndex(line(), fail), top()); break; // PUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: stack.push(memoGet(u8())); break; // BINGET
      case 0x6a: stack.push(memoGet(u32())); break; // LONG_BINGET
      case 0x67: stack.push(memoGet(parseIndex(line(), fail))); break; // GET
      // ---- globals, calls, objects
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(global(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL with non-string names');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = asArgs(pop());
        const f = callable(pop());
        stack.push(f.call(args, ctx));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = asArgs(pop());
        const cls = callable(pop());
        stack.push((cls.construct ?? cls.call)(args, ctx));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        const kwargs = pop();
        const args = asArgs(pop());
        const cls = callable(pop());
        if (!(kwargs instanceof Map) || kwargs.size > 0) fail(`NEWOBJ_EX with keyword arguments for ${cls.qualname}`);
        stack.push((cls.construct ?? cls.call)(args, ctx));
        break;
      }
      case 0x69: { // INST "module\nname\n" with arguments from MARK
        const module = line();
        const name = line();
        const args = popMark();
        stack.push(callable(global(module, name)).call(args, ctx));
        break;
      }
      case 0x6f: { // OBJ: MARK cls args… OBJ
        const items = popMark();
        if (items.length === 0) fail('OBJ without a class');
        stack.push(callable(items[0]).call(items.slice(1), ctx));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict) buildDict(obj, state, fail);
        else if (isBuildable(obj)) obj.pickleBuild(state, ctx);
        else fail(`BUILD on ${describe(obj)}`);
        break;
      }
      case 0x51: stack.push(ctx.persistentLoad(pop())); break; // BINPERSID
      case 0x50: stack.push(ctx.persistentLoad(line())); break; // PERSID
      default: {
        const name = OPCODE_NAMES[op];
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')}${name ? ` (${name})` : ''}`);
      }
    }
  }
}

/**
 * BUILD on a dict: the state is the instance `__dict__` (or a `(dict, slots)` pair). For
 * dict / OrderedDict it becomes `attributes` (PyTorch's `_metadata`); for other classes read as a
 * PyDict (argparse.Namespace) it becomes the entries.
 */
function buildDict(d: PyDict, state: unknown, fail: (w: string) => never): void {
  const parts = state instanceof PyTuple ? state : [state];
  const target: Map<unknown, unknown> = d.pyClass === 'dict' || d.pyClass === 'collections.OrderedDict' ? d.attributes : d;
  for (const part of parts) {
    if (part === null) continue;
    if (!(part instanceof Map)) return fail(`BUILD on a ${d.pyClass} with ${describe(part)} as state`);
    for (const [k, v] of part) {
      if (typeof k !== 'string') return fail(`BUILD on a ${d.pyClass} with a non-string attribute name`);
      target.set(k, v);
    }
  }
}

/** A short description of a value for error messages. */
export function describe(x: unknown): string {
  if (x === null) return 'None';
  if (x instanceof PyTuple) return 'a tuple';
  if (Array.isArray(x)) return 'a list';
  if (x instanceof PyDict) return `a ${x.pyClass}`;
  if (x instanceof Map) return 'a dict';
  if (x instanceof PyCallable) return x.qualname;
  if (x instanceof Uint8Array) return 'bytes';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'an object';
  return `a ${typeof x} (${String(x)})`;
}

function parseIntText(s: string, fail: (w: string) => never): number | bigint {
  if (!/^[+-]?\d+$/.test(s)) fail(`bad integer ${JSON.stringify(s)}`);
  return narrowInt(BigInt(s));
}

function parseIndex(s: string, fail: (w: string) => never): number {
  if (!/^\d+$/.test(s)) fail(`bad memo index ${JSON.stringify(s)}`);
  return Number(s);
}

/** Protocol 0 UNICODE: raw-unicode-escape (only \uXXXX and \UXXXXXXXX are escapes). */
function decodeRawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a: string | undefined, b: string | undefined) =>
    String.fromCodePoint(parseInt((a ?? b)!, 16)),
  );
}

/** Protocol 0 STRING: a quoted Python 2 str repr with backslash escapes. */
function decodeStringRepr(s: string, fail: (w: string) => never): string {
  const q = s[0];
  if (s.length < 2 || (q !== "'" && q !== '"') || s[s.length - 1] !== q) fail('STRING argument is not quoted');
  const body = s.slice(1, -1);
  const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0' };
  return body.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]+$/.test(e) && e !== '0') return String.fromCharCode(parseInt(e, 8));
    return simple[e] ?? `\\${e}`;
  });
}
