#!/usr/bin/env node
// `disco-experiments …`: the paper's ablations (train, score, report). The launcher: @disco/runtime/launch.
import { launchCli } from '@disco/runtime/launch';

launchCli(import.meta.url, { name: 'disco-experiments', cli: 'experiments', project: 'experiments' });
