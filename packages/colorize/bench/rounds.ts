/**
 * What the side-by-side benchmarks share: command-line numbers, medians with their spread, wall
 * time of one call, and the machine-load record with its busy flag. Each benchmark alternates
 * ours and PyTorch in rounds, so that a change of load hits both sides alike.
 */
import * as os from 'node:os';

/** The number after `name` on the command line, else `dflt`. */
export function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

/** Median and spread of a sample. */
export interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
  samples: number[];
}

/** Median (the mean of the middle two for an even count), min, max and the samples themselves. */
export function stats(xs: number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { median: mid, min: s[0]!, max: s.at(-1)!, n: s.length, samples: xs };
}

/** {@link stats} of every non-empty sample of a record. */
export function statsOf(o: Record<string, number[]>): Record<string, Stats> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v.length > 0).map(([k, v]) => [k, stats(v)]));
}

/** `median (min–max)` with `d` decimals. */
export function spread(x: Stats, d = 2): string {
  return `${x.median.toFixed(d)} (${x.min.toFixed(d)}–${x.max.toFixed(d)})`;
}

/** Wall seconds of one call of `f` (awaited when it returns a promise). */
export async function time(f: () => unknown): Promise<number> {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
}

/** The key of `keys` whose median is lowest (highest with `lower` false), among those present. */
export function best(o: Record<string, Stats>, keys: string[], lower = true): { key: string; median: number } | null {
  return keys.filter((k) => o[k]).reduce<{ key: string; median: number } | null>((b, k) => (b == null || (lower ? o[k]!.median < b.median : o[k]!.median > b.median) ? { key: k, median: o[k]!.median } : b), null);
}

/** 1-minute load average above which a run is flagged busy (on a 2-core machine, another job is sharing the CPUs). */
export const BUSY_LOAD = 1.5;

/** Load averages taken before each round and at the end, and whether the machine was busy. */
export class LoadRecord {
  readonly samples: number[][] = [];

  /** Records `os.loadavg()` (1, 5, 15 min) now. */
  take(): number[] {
    const l = os.loadavg();
    this.samples.push(l);
    return l;
  }

  /** Whether any 1-minute load average exceeded {@link BUSY_LOAD}. */
  get busy(): boolean {
    return this.samples.some((l) => l[0]! > BUSY_LOAD);
  }

  /** One line: the 1-minute load before each round, and the busy warning. */
  line(): string {
    return `load average before each round: ${this.samples.map((l) => l[0]!.toFixed(2)).join(', ')}${this.busy ? ` — BUSY machine (1-min load above ${BUSY_LOAD} on ${os.availableParallelism()} cores): not comparable with an idle run` : ''}`;
  }
}

/** Peak resident set size of this process so far, MiB (`process.resourceUsage().maxRSS`). */
export function maxRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}
