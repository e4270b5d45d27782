import { describe, expect, it } from 'vitest';
import { summarizeProfile } from '../../bench/profile.js';

describe('summarizeProfile', () => {
  it('groups self time by what the code belongs to, leaving idle time out', () => {
    const node = (id: number, functionName: string, url: string) => ({ id, callFrame: { functionName, url } });
    const summary = summarizeProfile({
      nodes: [
        node(1, '(idle)', ''),
        node(2, 'write', 'file:///app/node_modules/pino/lib/proto.js'),
        node(3, 'decide', 'file:///app/dist/routes/validate.js'),
        node(4, 'writeLatin1String', ''),
        node(5, 'parseObject', 'file:///app/node_modules/zod/v4/core/schemas.js'),
      ],
      samples: [1, 2, 3, 3, 4, 5, 1],
      timeDeltas: [5_000, 1_000, 2_000, 2_000, 3_000, 2_000, 5_000],
    });
    expect(summary).toEqual([
      { category: 'service code (dist/)', ms: 4, share: 0.4 },
      { category: 'socket writes (system calls)', ms: 3, share: 0.3 },
      { category: 'validation (zod)', ms: 2, share: 0.2 },
      { category: 'logging (pino)', ms: 1, share: 0.1 },
    ]);
  });
});
