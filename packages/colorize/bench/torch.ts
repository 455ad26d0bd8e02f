/**
 * The PyTorch side of the benchmarks: `torch_disco_cfg.py` (the same layer plans in PyTorch,
 * NCHW) run in a child process, with 1 and 2 threads. Benchmarks only — never tests or CI.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** A Python interpreter that imports torch (`$DISCO_TORCH_PYTHON`, `python3`, `/usr/bin/python3`), or null. */
export function findTorchPython(): string | null {
  for (const py of [process.env.DISCO_TORCH_PYTHON, 'python3', '/usr/bin/python3']) {
    if (!py) continue;
    try {
      execFileSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
      return py;
    } catch {
      // next candidate
    }
  }
  return null;
}

/** One `torch_disco_cfg.py` result. */
export interface TorchRun {
  framework: string;
  threads: number;
  params: number;
  inferSize: number;
  inferSeconds: number;
  trainStepSeconds: number | null;
  /** Peak resident set size of the Python process, MiB (absent from older scripts). */
  maxRssMiB?: number;
}

/** Runs `torch_disco_cfg.py` once. */
export function torch(py: string, args: string[]): TorchRun {
  const out = execFileSync(py, [path.join(here, 'torch_disco_cfg.py'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as TorchRun;
}

/** Both thread counts of one PyTorch measurement, and the faster one. */
export function torchBoth(py: string, args: string[], pick: (r: TorchRun) => number): { threads1: TorchRun; threads2: TorchRun; bestS: number; bestThreads: number } {
  const threads1 = torch(py, [...args, '--threads', '1']);
  const threads2 = torch(py, [...args, '--threads', '2']);
  const best = pick(threads1) <= pick(threads2) ? threads1 : threads2;
  return { threads1, threads2, bestS: pick(best), bestThreads: best.threads };
}
