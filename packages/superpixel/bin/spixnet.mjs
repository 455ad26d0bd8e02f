#!/usr/bin/env node
// `spixnet …`: stage-1 training of SPixNet, its quality report and boundary pictures. The launcher: @disco/runtime/launch.
import { launchCli } from '@disco/runtime/launch';

launchCli(import.meta.url, { name: 'spixnet', cli: 'spixnet', project: 'superpixel' });
