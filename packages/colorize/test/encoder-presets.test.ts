import { ENCODER_PRESETS } from '@disco/transformer';
import { describe, expect, it } from 'vitest';
import { DISCO_PRESETS } from '../src/index.js';

describe('ENCODER_PRESETS of @disco/transformer', () => {
  for (const name of ['paper', 'tiny'] as const) {
    it(`${name} equals the encoders of the ${name} DISCO model`, () => {
      const c = DISCO_PRESETS[name];
      const { layers, heads, dff, dropout } = c.transformer;
      expect(ENCODER_PRESETS[name]).toEqual({ layers, dModel: c.backbone.outChannels, heads, dff, dropout, positionMode: 'dense' });
    });
  }
});
