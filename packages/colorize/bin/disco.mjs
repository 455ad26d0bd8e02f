#!/usr/bin/env node
// `disco …`: the DISCO command line (colorize, train, export, eval). The launcher: @disco/runtime/launch.
import { launchCli } from '@disco/runtime/launch';

launchCli(import.meta.url, { name: 'disco', cli: 'disco', project: 'colorize' });
