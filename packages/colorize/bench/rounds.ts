/**
 * What the side-by-side benchmarks share: command-line numbers, medians with their spread, wall
 * time of one call, and the machine-load record with its busy flag. Each benchmark alternates
 * ours and PyTorch in rounds, so that a change of load hits both sides alike.
 */
import * as fs from 'node:fs';
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

/**
 * Share of all cores' time that other processes used, above which a run is flagged busy (0.25: half
 * a core of a 2-core machine taken by another job).
 */
export const BUSY_OTHERS_CPU = 0.25;

/** 1-minute load average above which a run is flagged busy where `/proc/stat` is missing (not Linux). */
export const BUSY_LOAD = 1.5;

/** Jiffies `[busy, total]` summed over all cores from `/proc/stat`, or null where it is missing. */
function cpuJiffies(): [number, number] | null {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // user … steal (guest time is inside user)
    return [total - f[3]! - f[4]!, total]; // minus idle and iowait
  } catch {
    return null;
  }
}

/**
 * Load before each round and at the end, and whether the machine was busy. The load average lags
 * by a minute and counts the benchmark's own threads of the round before, so on 2 cores it flags
 * every run; the busy flag rests instead on the CPU time other processes take during one second in
 * which this benchmark sleeps (`/proc/stat` minus this process's own `cpuUsage`).
 */
export class LoadRecord {
  /** `os.loadavg()` (1, 5, 15 min) at each sample. */
  readonly samples: number[][] = [];
  /** Share (0…1) of all cores' time used by other processes in the second before each sample; null without `/proc/stat`. */
  readonly othersCpu: (number | null)[] = [];

  /** Sleeps one second measuring the CPU others use, then records it and `os.loadavg()`. */
  take(): number[] {
    const before = cpuJiffies();
    const ours0 = process.cpuUsage();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000); // sleep without using a core
    const after = cpuJiffies();
    const oursUs = process.cpuUsage(ours0);
    if (before && after && after[1] > before[1]) {
      const hz = 100; // USER_HZ: /proc/stat counts in 1/100 s on Linux
      const oursJiffies = ((oursUs.user + oursUs.system) / 1e6) * hz;
      this.othersCpu.push(Math.max(0, (after[0] - before[0] - oursJiffies) / (after[1] - before[1])));
    } else {
      this.othersCpu.push(null);
    }
    const l = os.loadavg();
    this.samples.push(l);
    return l;
  }

  /** Whether other processes took more than {@link BUSY_OTHERS_CPU} of the CPU before any sample (load average above {@link BUSY_LOAD} without `/proc/stat`). */
  get busy(): boolean {
    return this.samples.some((l, i) => {
      const others = this.othersCpu[i];
      return others == null ? l[0]! > BUSY_LOAD : others > BUSY_OTHERS_CPU;
    });
  }

  /** One line: the CPU share others used and the 1-minute load before each round, and the busy warning. */
  line(): string {
    const others = this.othersCpu.map((x) => (x == null ? '—' : `${Math.round(x * 100)} %`)).join(', ');
    return `other processes' CPU share before each round: ${others}; load average: ${this.samples.map((l) => l[0]!.toFixed(2)).join(', ')}${this.busy ? ` — BUSY machine (another job used more than ${BUSY_OTHERS_CPU * 100} % of ${os.availableParallelism()} cores): not comparable with an idle run` : ' — idle'}`;
  }
}

/** Peak resident set size of this process so far, MiB (`process.resourceUsage().maxRSS`). */
export function maxRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}
